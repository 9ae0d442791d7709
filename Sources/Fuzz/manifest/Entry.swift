import BpfleetClient
import CFuzzDriver
import Glibc

/// libFuzzer over `ClientFuzzTargets.manifest` (docs/fuzzing.md).
@main
enum FuzzManifest {
    static func main() {
        exit(bpfleet_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in
            ClientFuzzTargets.manifest(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        })
    }
}
