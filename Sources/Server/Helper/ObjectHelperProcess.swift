import BpfleetShared
import CBPFSupport
import Foundation

/// The object helper: `bpfleetd --object-helper`, started by bpfleetd with
/// one end of a Unix socket as descriptor 3. It serves one request at a
/// time until bpfleetd closes its end (or dies: the kernel then kills it).
/// Whatever an object does to libbpf here, bpfleetd only sees an answer,
/// or this process gone.
public enum ObjectHelperProcess {
    public static let channelDescriptor: Int32 = 3

    /// Serves until the channel closes; the process's exit status.
    public static func serve(limits: HelperLimits, dropCapabilities: Bool = true) -> Int32 {
        // A parent gone before this line closed its end of the channel:
        // the first receive ends the loop. (bpfleetd may itself be pid 1 in
        // a container, so the parent's pid proves nothing.)
        guard bpfleet_die_with_parent() == 0 else { return 1 }
        // Before the first byte of an object is read: what loading needs,
        // and no exec that could gain more (docs/security.md, "Least privilege").
        if dropCapabilities {
            do throws(LeastPrivilege.DropFailure) {
                try LeastPrivilege.limit(to: LeastPrivilege.helperSet)
            } catch {
                let line = "object helper: \(error.description)\n"
                _ = line.withCString { Foundation.write(STDERR_FILENO, $0, strlen($0)) }
                return 1
            }
        }
        // Out of memory, it dies where an allocation failed, often without
        // a word of memory: the handler this sets says so on stderr.
        _ = bpfleet_limit_data(UInt64(limits.memoryBytes))
        captureLibbpfMessages()
        let channel = HelperChannel(fd: channelDescriptor)
        while true {
            let message: (header: [UInt8], payload: [UInt8])
            do throws(HelperChannel.Failure) {
                message = try channel.receive(until: nil)
            } catch {
                return 0
            }
            allowCPU(seconds: limits.cpuSeconds)
            let reply = answer(header: message.header, payload: message.payload)
            let encoded = (try? JSONEncoder.wire().encode(reply)).map(Array.init)
                ?? Array(#"{"error":{"code":-32603,"message":"the object helper could not encode its answer"}}"#.utf8)
            do throws(HelperChannel.Failure) {
                try channel.send(header: encoded, payload: [], until: nil)
            } catch {
                return 1
            }
        }
    }

    /// The CPU time this request may use, on top of what the process has
    /// used so far: past it the kernel sends SIGXCPU, which ends it.
    private static func allowCPU(seconds: Int) {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        let used = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + 1
        var cpu = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_CPU.rawValue), &cpu)
        cpu.rlim_cur = rlim_t(used + seconds)
        setrlimit(__rlimit_resource_t(RLIMIT_CPU.rawValue), &cpu)
    }

    static func answer(header: [UInt8], payload: [UInt8]) -> HelperReply {
        let request: HelperRequest
        do {
            request = try JSONDecoder.wire().decode(HelperRequest.self, from: Data(header))
        } catch {
            return HelperReply(error: ResponseError(.internalError, "the object helper did not understand its request: \(error)"))
        }
        do throws(ResponseError) {
            switch request.operation {
            case .describe:
                return HelperReply(described: try describe(payload, name: request.name))
            case .load:
                guard let spec = request.load else {
                    throw ResponseError(.internalError, "the object helper was asked to load without a load spec")
                }
                return HelperReply(loaded: try ProbeLoader().load(spec, elf: payload, name: request.name))
            case .verify:
                guard let spec = request.verify else {
                    throw ResponseError(.internalError, "the object helper was asked to verify without a verify spec")
                }
                return HelperReply(verified: try ProbeVerifier().verify(spec, elf: payload, name: request.name))
            }
        } catch {
            return HelperReply(error: error)
        }
    }

    static func describe(_ elf: [UInt8], name: String) throws(ResponseError) -> HelperReply.Described {
        let object = try kernelCall { () throws(KernelError) in try BPFObject(elf: elf, name: name) }
        return HelperReply.Described(programs: object.describePrograms(), maps: object.describeMaps(),
                                     globals: object.describeGlobals(), facts: object.programFacts)
    }
}
