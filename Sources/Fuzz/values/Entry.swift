import BpfleetServer
import CFuzzDriver
import Glibc

/// libFuzzer over `ServerFuzzTargets.values` (docs/fuzzing.md).
@main
enum FuzzValues {
    static func main() {
        exit(bpfleet_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in
            ServerFuzzTargets.values(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        })
    }
}
