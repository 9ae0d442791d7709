import BpfleetServer
import CFuzzDriver
import Glibc

/// libFuzzer over `ServerFuzzTargets.policy` (docs/fuzzing.md).
@main
enum FuzzPolicy {
    static func main() {
        exit(bpfleet_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in
            ServerFuzzTargets.policy(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        })
    }
}
