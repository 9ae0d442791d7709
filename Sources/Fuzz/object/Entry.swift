import BpfleetServer
import CFuzzDriver
import Glibc

/// libFuzzer over `ServerFuzzTargets.object` (docs/fuzzing.md).
@main
enum FuzzObject {
    static func main() {
        exit(bpfleet_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in
            ServerFuzzTargets.object(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        })
    }
}
