import BpfleetServer
import CFuzzDriver
import Glibc

/// libFuzzer over `ServerFuzzTargets.roles` (docs/fuzzing.md).
@main
enum FuzzRoles {
    static func main() {
        exit(bpfleet_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in
            ServerFuzzTargets.roles(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        })
    }
}
