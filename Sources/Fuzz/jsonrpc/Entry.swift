import BpfleetServer
import CFuzzDriver
import Glibc

/// libFuzzer over `ServerFuzzTargets.jsonrpc` (docs/fuzzing.md).
@main
enum FuzzJSONRPC {
    static func main() {
        exit(bpfleet_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in
            ServerFuzzTargets.jsonrpc(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        })
    }
}
