import BpfleetServer
import CFuzzDriver
import Glibc

/// libFuzzer over `ServerFuzzTargets.btf` (docs/fuzzing.md).
@main
enum FuzzBTF {
    static func main() {
        exit(bpfleet_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in
            ServerFuzzTargets.btf(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        })
    }
}
