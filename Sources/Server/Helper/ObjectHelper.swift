import BpfleetShared
import CBPFSupport
import Foundation
import Logging

/// bpfleetd's side of the object helper (`ObjectHelperProcess`): keeps one
/// helper process warm, sends it a request at a time, and turns whatever
/// becomes of the helper into the request's answer. A helper that dies,
/// exceeds its CPU time or memory, or does not answer in time costs that
/// one request (-32005 saying which), and is replaced at once.
///
/// Not thread-safe: used from the probe registry's executor only.
final class ObjectHelper: @unchecked Sendable {
    private let executable: String
    private let limits: HelperLimits
    private let logger: Logger
    /// Whether the helper keeps the capabilities it starts with (bpfleetd's
    /// --keep-capabilities) instead of dropping to `LeastPrivilege.helperSet`.
    private let keepCapabilities: Bool

    private struct Running {
        var pid: pid_t
        var channel: HelperChannel
        var stderr: Int32
    }

    private var running: Running?
    /// The last bytes the helper wrote to its standard error.
    private var stderrTail: [UInt8] = []

    init(executable: String, limits: HelperLimits, keepCapabilities: Bool = false, logger: Logger) {
        self.executable = executable
        self.limits = limits
        self.keepCapabilities = keepCapabilities
        self.logger = logger
    }

    deinit {
        stop()
    }

    /// The helper's pid, when one runs.
    var pid: pid_t? { running?.pid }

    /// Starts the helper now rather than at the first request.
    func warmUp() {
        guard running == nil else { return }
        do throws(ResponseError) {
            try spawn()
        } catch {
            logger.error("the object helper could not be started; the next upload tries again", metadata: ["error": "\(error.message)"])
        }
    }

    func describe(_ elf: [UInt8], name: String) throws(ResponseError) -> HelperReply.Described {
        let reply = try call(HelperRequest(operation: .describe, name: name), payload: elf, doing: "describing the object")
        if let error = reply.error { throw error }
        guard let described = reply.described else {
            throw ResponseError(.internalError, "the object helper answered without a description")
        }
        return described
    }

    /// Loads a probe and pins its programs and maps under
    /// `spec.pinDirectory`: what was pinned. A helper that fails past its
    /// first pin may leave pins there; the caller removes them.
    func load(_ spec: HelperRequest.LoadSpec, elf: [UInt8], name: String) throws(ResponseError) -> HelperReply.Loaded {
        let reply = try call(HelperRequest(operation: .load, name: name, load: spec), payload: elf, doing: "loading the object")
        if let error = reply.error { throw error }
        guard let loaded = reply.loaded else {
            throw ResponseError(.internalError, "the object helper answered a load without what it pinned")
        }
        return loaded
    }

    /// Ends the helper: its channel closed, the process killed and reaped.
    func stop() {
        guard let helper = running else { return }
        closeEnds(helper)
        kill(helper.pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(helper.pid, &status, 0) < 0, errno == EINTR {}
    }

    // MARK: The process

    private func spawn() throws(ResponseError) {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw .kernel("socketpair for the object helper", errno: currentErrno())
        }
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0, fcntl(pipeEnds[0], F_SETFD, FD_CLOEXEC) == 0, fcntl(pipeEnds[1], F_SETFD, FD_CLOEXEC) == 0,
              fcntl(pipeEnds[0], F_SETFL, O_NONBLOCK) == 0 else {
            let code = currentErrno()
            close(pair[0])
            close(pair[1])
            throw .kernel("pipe for the object helper's standard error", errno: code)
        }
        let arguments = [executable, "--object-helper",
                         "--object-helper-memory", String(limits.memoryBytes),
                         "--object-helper-cpu", String(limits.cpuSeconds)] + (keepCapabilities ? ["--keep-capabilities"] : [])
        var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        var child: Int32 = 0
        let rc = bpfleet_spawn_helper(executable, &cArguments, pair[1], pipeEnds[1], &child)
        close(pair[1])
        close(pipeEnds[1])
        guard rc == 0 else {
            close(pair[0])
            close(pipeEnds[0])
            throw .kernel("start the object helper (\(executable) --object-helper)", errno: rc)
        }
        running = Running(pid: child, channel: HelperChannel(fd: pair[0]), stderr: pipeEnds[0])
        logger.debug("object helper started", metadata: ["pid": "\(child)"])
    }

    /// What became of a helper whose channel broke: its wait status and
    /// peak memory. Waits up to a second for it to exit, then kills it.
    private func reap(_ helper: Running) -> (status: Int32, peakBytes: Int) {
        var status: Int32 = 0
        var usage = rusage()
        // A helper still alive sees the end of its requests and exits.
        shutdown(helper.channel.fd, Int32(SHUT_RDWR))
        defer { closeEnds(helper) }  // after it exits: its last words are in the pipe
        for _ in 0..<100 {
            let rc = wait4(helper.pid, &status, WNOHANG, &usage)
            if rc == helper.pid { return (status, usage.ru_maxrss * 1024) }
            if rc < 0, errno != EINTR { break }
            usleep(10_000)
        }
        kill(helper.pid, SIGKILL)
        while wait4(helper.pid, &status, 0, &usage) < 0, errno == EINTR {}
        return (status, usage.ru_maxrss * 1024)
    }

    /// Forgets the helper: its socket closed, what it wrote to its standard
    /// error kept, the pipe closed.
    private func closeEnds(_ helper: Running) {
        running = nil
        close(helper.channel.fd)
        drainStderr(helper.stderr)
        close(helper.stderr)
    }

    private func drainStderr(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { return }
            stderrTail += buffer[..<n]
            if stderrTail.count > 2048 { stderrTail.removeFirst(stderrTail.count - 2048) }
        }
    }

    // MARK: A request

    func call(_ request: HelperRequest, payload: [UInt8], doing what: String) throws(ResponseError) -> HelperReply {
        // A helper that died between requests (killed from outside) is
        // replaced before this request, which is not its fault.
        var status: Int32 = 0
        if let helper = running, waitpid(helper.pid, &status, WNOHANG) == helper.pid {
            closeEnds(helper)
            stderrTail = []
            logger.error("the object helper ended between requests; starting another", metadata: [
                "pid": "\(helper.pid)", "signal": "\(Self.signalName(status & 0x7f))", "exitStatus": "\((status >> 8) & 0xff)"])
        }
        if running == nil { try spawn() }
        guard let helper = running else { throw ResponseError(.internalError, "the object helper is not running") }
        let header: [UInt8]
        do {
            header = Array(try JSONEncoder.wire().encode(request))
        } catch {
            throw ResponseError(.internalError, "could not encode the object helper's request: \(error)")
        }
        logger.debug("object helper: request sent", metadata: [
            "operation": "\(request.operation.rawValue)", "bytes": "\(payload.count)", "pid": "\(helper.pid)"])
        let deadline = HelperChannel.deadline(after: limits.timeoutSeconds)
        let answer: (header: [UInt8], payload: [UInt8])
        do throws(HelperChannel.Failure) {
            try helper.channel.send(header: header, payload: payload, until: deadline)
            answer = try helper.channel.receive(until: deadline)
        } catch .timedOut {
            kill(helper.pid, SIGKILL)
            _ = reap(helper)
            warmUp()
            let seconds = limits.timeoutSeconds.formatted()
            throw helperFailure("the object helper did not answer within \(seconds) s while \(what) (its time limit); it was stopped and replaced",
                                reason: "timeLimit", extra: ["timeLimitSeconds": .double(limits.timeoutSeconds)])
        } catch {
            let (status, peak) = reap(helper)
            warmUp()
            throw failure(status: status, peakBytes: peak, doing: what)
        }
        drainStderr(helper.stderr)
        do {
            return try JSONDecoder.wire().decode(HelperReply.self, from: Data(answer.header))
        } catch {
            stop()
            warmUp()
            throw ResponseError(.internalError, "the object helper's answer did not decode: \(error)")
        }
    }

    /// The error for a helper that died with `status` while doing `what`.
    private func failure(status: Int32, peakBytes: Int, doing what: String) -> ResponseError {
        let signal = status & 0x7f
        let peak: JSONValue = .int(Int64(peakBytes))
        guard signal != 0 else {
            let code = (status >> 8) & 0xff
            return helperFailure("the object helper exited with status \(code) while \(what)", reason: "exit",
                                 extra: ["exitStatus": .int(Int64(code)), "peakMemoryBytes": peak])
        }
        let name = Self.signalName(signal)
        if signal == SIGXCPU {
            return helperFailure("the object helper exceeded its CPU time limit (\(limits.cpuSeconds) s) while \(what), and was stopped",
                                 reason: "cpuLimit", extra: ["signal": .int(Int64(signal)), "signalName": .string(name),
                                                             "cpuLimitSeconds": .int(Int64(limits.cpuSeconds)), "peakMemoryBytes": peak])
        }
        let words = String(decoding: stderrTail, as: UTF8.self)
        let ranOutOfMemory = words.localizedCaseInsensitiveContains("alloc") || words.localizedCaseInsensitiveContains("memory")
            || peakBytes >= limits.memoryBytes / 10 * 8
        if ranOutOfMemory {
            return helperFailure("the object helper exhausted its memory limit (\(limits.memoryBytes >> 20) MiB) while \(what), and died of signal \(signal) (\(name))",
                                 reason: "memoryLimit", extra: ["signal": .int(Int64(signal)), "signalName": .string(name),
                                                                "memoryLimitBytes": .int(Int64(limits.memoryBytes)), "peakMemoryBytes": peak])
        }
        return helperFailure("the object helper died of signal \(signal) (\(name)) while \(what)", reason: "signal",
                             extra: ["signal": .int(Int64(signal)), "signalName": .string(name), "peakMemoryBytes": peak])
    }

    private func helperFailure(_ message: String, reason: String, extra: [String: JSONValue]) -> ResponseError {
        var helper = extra
        helper["reason"] = .string(reason)
        let words = String(decoding: stderrTail, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if !words.isEmpty { helper["stderr"] = .string(words) }
        stderrTail = []
        logger.error("object helper failed", metadata: ["message": "\(message)", "stderr": "\(words)"])
        return ResponseError(.invalidObject, message, data: ["helper": .object(helper), "libbpf": ""])
    }

    static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [
            SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
            SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV",
            SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM", SIGXCPU: "SIGXCPU", SIGXFSZ: "SIGXFSZ",
            SIGSYS: "SIGSYS",
        ]
        return names[signal] ?? "signal \(signal)"
    }
}
