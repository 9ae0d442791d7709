import BpfleetServer
import CFuzzDriver
import Glibc

/// libFuzzer over `ServerFuzzTargets.symbols` (docs/fuzzing.md).
@main
enum FuzzSymbols {
    static func main() {
        exit(bpfleet_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in
            ServerFuzzTargets.symbols(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        })
    }
}
