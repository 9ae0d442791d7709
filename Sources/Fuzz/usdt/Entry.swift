import BpfleetServer
import CFuzzDriver
import Glibc

/// libFuzzer over `ServerFuzzTargets.usdt` (docs/fuzzing.md).
@main
enum FuzzUSDT {
    static func main() {
        exit(bpfleet_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in
            ServerFuzzTargets.usdt(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        })
    }
}
