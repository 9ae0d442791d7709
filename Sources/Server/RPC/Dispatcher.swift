import BpfleetShared
import Foundation
import Logging
import NIOCore

/// Turns inbound lines into replies: JSON-RPC 2.0 envelopes, batches,
/// notifications, and the method table built from `ProtocolV1.methods`.
struct Dispatcher: Sendable {
    let context: CallContext
    let logger: Logger
    /// Who may call what; nil lets every peer do everything (unit use only).
    let roles: RoleBook?
    let audit: AuditLog?
    private let methods: [String: any ServedMethod.Type]

    /// `methods` is the table the node serves, `servedMethods`; unit tests
    /// (Tests/ServerTests/DispatcherTests) hand in methods of their own
    /// that touch no kernel, to drive envelopes, batches and roles without
    /// root.
    init(context: CallContext, roles: RoleBook?, audit: AuditLog?, logger: Logger,
         methods: [String: any ServedMethod.Type] = Dispatcher.servedMethods) {
        self.context = context
        self.roles = roles
        self.audit = audit
        self.logger = logger
        self.methods = methods
    }

    /// The method table, by name, built from `ProtocolV1.methods`.
    static let servedMethods: [String: any ServedMethod.Type] = {
        var table: [String: any ServedMethod.Type] = [:]
        for type in ProtocolV1.methods {
            guard let served = type as? any ServedMethod.Type else {
                preconditionFailure("\(type.method) is in the protocol but not served")
            }
            table[type.method] = served
        }
        return table
    }()

    /// Every method name the server answers.
    var methodNames: [String] { methods.keys.sorted() }

    /// Handles one line from `peer` and writes its reply (if it has one) on
    /// `connection`. The line is read once, by `JSONReader`; a batch must
    /// fit `admission` before any of its members runs.
    /// `done` runs once the work is done and before the reply is written:
    /// a client that has its reply may send the next request at once.
    func handle(_ line: ByteBuffer, from peer: PeerIdentity, on connection: ConnectionHandle,
                admission: BatchAdmission, done: @Sendable () -> Void = {}) async {
        let message = line.withUnsafeReadableBytes { Self.read($0, maxBatchMembers: admission.maxMembers) }
        switch message {
        case .failure(let error):
            done()
            context.metrics?.recordCall(method: ServerMetrics.invalidMethod, code: error.code.rawValue, seconds: nil)
            await write(.failure(nil, error), to: connection.sink)
        case .success(.batch(let count, let members)):
            await handleBatch(count: count, members: members, admission: admission, from: peer, on: connection, done: done)
        case .success(.single(let member)):
            let result = await handleOne(member, from: peer, on: connection)
            done()
            if let outcome = result {
                let start = await write(outcome, to: connection.sink)
                start?()
            }
        }
    }

    /// Reads a line; a failure is the error that answers it: not JSON
    /// (-32700), or nested past `JSONReader.maxDepth` or holding more than
    /// `JSONReader.maxValues` values in one request (-32600).
    static func read(_ bytes: UnsafeRawBufferPointer, maxBatchMembers: Int) -> Result<JSONReader.Message, ResponseError> {
        do throws(JSONReader.Failure) {
            return .success(try JSONReader.read(bytes, maxBatchMembers: maxBatchMembers))
        } catch {
            switch error.kind {
            case .syntax:
                return .failure(ResponseError(.parseError, "parse error: \(error)"))
            case .tooDeep:
                return .failure(ResponseError(
                    .invalidRequest, "invalid request: \(error)",
                    data: ["limit": "maxDepth", "value": .int(Int64(JSONReader.maxDepth))]))
            case .tooManyValues:
                return .failure(ResponseError(
                    .invalidRequest, "invalid request: \(error)",
                    data: ["limit": "maxValues", "value": .int(Int64(JSONReader.maxValues))]))
            }
        }
    }

    /// Replies to a line that went over the message size limit.
    func oversized(_ length: Int, limit: Int, replyingTo sink: any ReplySink) async {
        let error = ResponseError.limitExceeded(
            "maxMessageBytes", limit, "message of \(length) bytes is over the limit of \(limit) bytes; it was discarded")
        context.metrics?.recordCall(method: ServerMetrics.invalidMethod, code: error.code.rawValue, seconds: nil)
        await write(.failure(nil, error), to: sink)
    }

    /// Replies to a request refused by a connection limit, without running it.
    func refuse(_ line: ByteBuffer, with error: ResponseError, replyingTo sink: any ReplySink) async {
        // Read for the id alone: a batch's members are not kept.
        var id: RequestID?
        if case .success(.single(let member)) = line.withUnsafeReadableBytes({ Self.read($0, maxBatchMembers: 0) }) {
            id = RequestEnvelope(member).id.replyID
        }
        await write(.failure(id, error), to: sink)
    }

    // MARK: Requests

    enum Outcome: Sendable {
        case success(RequestID?, Reply)
        case failure(RequestID?, ResponseError)
    }

    /// What one request object asks for, read before anyone's role is
    /// looked at: a failure to answer at once, or the method to call.
    enum ParsedRequest {
        /// Not JSON (-32700) or not a request object (-32600).
        case refused(RequestID?, ResponseError)
        /// A well-formed request for a method this server does not have.
        case unknown(RequestEnvelope, method: String)
        case call(RequestEnvelope, method: String, any ServedMethod.Type)
    }

    /// Reads one request object's envelope and finds its method in `methods`.
    static func parse(_ member: JSONReader.Member, methods: [String: any ServedMethod.Type]) -> ParsedRequest {
        let envelope = RequestEnvelope(member)
        // A request with no problem has a method (RequestEnvelope says so).
        guard envelope.problem == nil, let methodName = envelope.method else {
            let problem = envelope.problem ?? "\"method\" must be a string"
            return .refused(envelope.id.replyID, ResponseError(.invalidRequest, "invalid request: \(problem)"))
        }
        guard let method = methods[methodName] else { return .unknown(envelope, method: methodName) }
        return .call(envelope, method: methodName, method)
    }

    /// nil: a notification, which gets no reply. Counted in the metrics
    /// (docs/metrics.md) by method and code, notifications too.
    private func handleOne(_ member: JSONReader.Member, from peer: PeerIdentity, on connection: ConnectionHandle?) async -> Outcome? {
        let started = ContinuousClock.now
        let answered = await answer(member, from: peer, on: connection)
        if let metrics = context.metrics {
            var code = 0
            if case .failure(_, let error) = answered.outcome { code = error.code.rawValue }
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            metrics.recordCall(method: answered.method, code: code, seconds: answered.ran ? seconds : nil)
        }
        return answered.notification ? nil : answered.outcome
    }

    /// The outcome of one request object, the method label it counts
    /// under, whether it was a notification, and whether its method ran
    /// (only those are timed).
    private func answer(_ member: JSONReader.Member, from peer: PeerIdentity,
                        on connection: ConnectionHandle?) async -> (method: String, outcome: Outcome, notification: Bool, ran: Bool) {
        let envelope: RequestEnvelope
        let methodName: String
        let method: any ServedMethod.Type
        switch Self.parse(member, methods: methods) {
        case .refused(let id, let error):
            return (ServerMetrics.invalidMethod, .failure(id, error), false, false)
        case .unknown(let unknown, let name):
            return (name, .failure(unknown.id.replyID, ResponseError(.methodNotFound, "method not found: \(name)", data: ["method": .string(name)])),
                    unknown.id == .absent, false)
        case .call(let found, let name, let type):
            (envelope, methodName, method) = (found, name, type)
        }
        let isNotification = envelope.id == .absent
        let id = envelope.id.replyID
        // Who may call this, before anything of the request is looked at.
        let role = roles.map { $0.role(of: peer) } ?? .operator
        let needed = Role.needed(by: method)
        if let refusal = refusal(of: methodName, needing: needed, by: peer, role: role) {
            audit?.record(.init(peer: peer, role: role, method: methodName, id: id, targets: [:], outcome: .failure(refusal)))
            return (methodName, .failure(id, refusal), isNotification, false)
        }
        if let error = Self.paramsRefusal(envelope) {
            if method.changesNode {
                audit?.record(.init(peer: peer, role: role, method: methodName, id: id, targets: [:], outcome: .failure(error)))
            }
            return (methodName, .failure(id, error), isNotification, false)
        }
        // Room for its record before a change runs: a change the audit
        // log could not take is refused, not made unrecorded.
        if method.changesNode, let refusal = audit?.reserve() {
            return (methodName, .failure(id, refusal), isNotification, false)
        }
        var context = self.context
        context.connection = connection
        context.caller = Caller(peer: peer, role: role ?? .viewer, method: methodName, id: id, audit: audit)
        let (targets, result) = await serve(method, params: envelope.params, context: context)
        let outcome: Outcome
        switch result {
        case .success(let reply):
            outcome = .success(id, reply)
        case .failure(let error as ResponseError):
            outcome = .failure(id, error)
        case .failure(let error):
            logger.error("method failed", metadata: ["method": "\(methodName)", "error": "\(error)"])
            outcome = .failure(id, ResponseError(.internalError, "internal error: \(error)"))
        }
        // Recorded before the reply is written, in the room reserved above:
        // a client that saw the answer can rely on the line being in the log.
        if method.changesNode, let audit {
            switch outcome {
            case .success(_, .value(let value)):
                audit.record(.init(peer: peer, role: role, method: methodName, id: id, targets: targets, outcome: .success(auditResult(value))), reserved: true)
            case .success(_, .stream), .success(_, .subscribed):
                audit.record(.init(peer: peer, role: role, method: methodName, id: id, targets: targets, outcome: .success([:])), reserved: true)
            case .failure(_, let error):
                audit.record(.init(peer: peer, role: role, method: methodName, id: id, targets: targets, outcome: .failure(error)), reserved: true)
            }
        }
        return (methodName, outcome, isNotification, true)
    }

    /// What a peer with no role is told.
    static func unauthenticated(_ peer: PeerIdentity) -> ResponseError {
        ResponseError(.unauthenticated, "unauthenticated: \(peer) has no role on this node",
                      data: ["identity": .string(peer.description)])
    }

    /// -32001 for a peer with no role, -32002 for one whose role is too small.
    private func refusal(of method: String, needing needed: Role, by peer: PeerIdentity, role: Role?) -> ResponseError? {
        guard let role else { return Self.unauthenticated(peer) }
        guard role >= needed else {
            return ResponseError(.permissionDenied, "permission denied: \(method) needs \(needed.rawValue) (you are \(role.rawValue))",
                                 data: ["method": .string(method), "needs": .string(needed.rawValue), "role": .string(role.rawValue)])
        }
        return nil
    }

    /// Invalid params known before decoding: a value the reader could not
    /// keep (`1e400`, a lone surrogate), or params that are not by name.
    static func paramsRefusal(_ envelope: RequestEnvelope) -> ResponseError? {
        if let defect = envelope.paramsDefect {
            return ResponseError(.invalidParams, "invalid params: \(defect)", data: ["field": .string(defect.field)])
        }
        guard !envelope.hasParams || envelope.paramsAreObject else {
            return ResponseError.invalidParams("params: must be an object (by-name parameters)", field: "params")
        }
        return nil
    }

    /// Decodes the params and runs the method; also hands back what the
    /// call touches, for the audit log.
    private func serve<M: ServedMethod>(_ method: M.Type, params: JSONValue?,
                                        context: CallContext) async -> ([String: JSONValue], Result<Reply, any Error>) {
        let request: M
        do {
            request = try Self.decodeParams(method, from: params)
        } catch {
            return ([:], .failure(error))
        }
        let targets = (request as? any Audited)?.auditTargets ?? [:]
        do {
            return (targets, .success(try await request.serve(context)))
        } catch {
            return (targets, .failure(error))
        }
    }

    /// Decodes a request's params, already read, as the method's own type
    /// (`{}` when it has none); a decoding failure is invalid params naming
    /// the field (`params.target.priority`).
    static func decodeParams<M: RPCMethod>(_ method: M.Type, from params: JSONValue?) throws -> M {
        do {
            return try JSONValueDecoder.decode(M.self, from: params ?? .object([:]))
        } catch let error as DecodingError {
            let (path, message) = ResponseError.describing(error, root: params == nil ? "" : "params")
            throw ResponseError(.invalidParams, "invalid params: \(message)", data: ["field": .string(path)])
        }
    }

    /// Why a batch is refused whole before any member runs: empty, or of
    /// more members than `maxMembers`.
    static func batchRefusal(count: Int, maxMembers: Int) -> ResponseError? {
        if count == 0 {
            return ResponseError(.invalidRequest, "invalid request: empty batch")
        }
        if count > maxMembers {
            return ResponseError(.invalidRequest, "invalid request: a batch of \(count) members is over the limit of \(maxMembers)",
                                 data: ["limit": "maxBatchMembers", "value": .int(Int64(maxMembers))])
        }
        return nil
    }

    private func handleBatch(count: Int, members elements: [JSONReader.Member], admission: BatchAdmission,
                             from peer: PeerIdentity, on connection: ConnectionHandle,
                             done: @Sendable () -> Void) async {
        let sink = connection.sink
        // As for a single request, the line's place is given back before
        // its reply is written: a client that has the answer may send the
        // next line at once, and finds its places free.
        if let error = Self.batchRefusal(count: count, maxMembers: admission.maxMembers) {
            done()
            await write(.failure(nil, error), to: sink)
            return
        }
        // The line holds one in-flight place already; each further member
        // takes one more, all of them or the batch does not run.
        let extra = count - 1
        guard extra == 0 || admission.claim(extra) else {
            done()
            let limit = admission.maxInFlight
            let error = ResponseError.limitExceeded(
                "maxInFlight", limit,
                "a batch of \(count) members does not fit in the \(limit) requests this connection may have running; wait for their replies or send a smaller batch")
            await write(.failure(nil, error), to: sink)
            return
        }
        // Members run concurrently; the replies go out together as one array.
        typealias Member = (index: Int, reply: ByteBuffer?, start: (@Sendable () -> Void)?)
        let members = await withTaskGroup(of: Member.self) { group in
            for (index, element) in elements.enumerated() {
                group.addTask {
                    guard let outcome = await handleOne(element, from: peer, on: connection) else { return (index, nil, nil) }
                    let buffer = BufferSink()
                    let start = await write(outcome, to: buffer, terminate: false)
                    return (index, buffer.bytes, start)
                }
            }
            var results = [Member?](repeating: nil, count: elements.count)
            for await member in group { results[member.index] = member }
            return results.compactMap { $0 }
        }
        if extra > 0 { admission.release(extra) }
        done()
        // Subscriptions begin once the array naming them is on the wire.
        defer { for member in members { member.start?() } }
        let replies = members.compactMap(\.reply)
        guard !replies.isEmpty else { return }  // all notifications: nothing to send
        var out = ByteBuffer()
        out.writeStaticString("[")
        for (index, var reply) in replies.enumerated() {
            if index > 0 { out.writeStaticString(",") }
            out.writeBuffer(&reply)
        }
        out.writeStaticString("]\n")
        try? await sink.write(out)
    }

    // MARK: Responses

    /// Writes one response; `terminate` ends it with the newline that
    /// frames it (batch members are framed by their array instead). Returns
    /// what a subscribing reply starts, for the caller to run once the
    /// reply is on the wire.
    @discardableResult
    func write(_ outcome: Outcome, to sink: any ReplySink, terminate: Bool = true) async -> (@Sendable () -> Void)? {
        if case .success(let id, .subscribed(let value, let start)) = outcome {
            await write(.success(id, .value(value)), to: sink, terminate: terminate)
            return start
        }
        var head = JSONWriter(buffer: ByteBuffer())
        head.raw("{\"jsonrpc\":\"2.0\",\"id\":")
        switch outcome {
        case .success(let id, _), .failure(let id, _):
            switch id {
            case .none: head.raw("null")
            case .number(let text)?: head.bytes(text.utf8)
            case .string(let text)?: head.string(text)
            }
        }
        switch outcome {
        case .failure(_, let error):
            head.raw(",\"error\":")
            head.bytes(Self.encode(error))
            head.raw(terminate ? "}\n" : "}")
            try? await sink.write(head.buffer)
        case .success(let id, .value(let value)):
            head.raw(",\"result\":")
            if let raw = value as? RawJSON {
                head.bytes(raw.bytes)
            } else {
                do {
                    head.bytes(try JSONEncoder.wire().encode(value))
                } catch {
                    logger.error("result encoding failed", metadata: ["error": "\(error)"])
                    return await write(.failure(id, ResponseError(.internalError, "internal error: result encoding failed")), to: sink, terminate: terminate)
                }
            }
            head.raw(terminate ? "}\n" : "}")
            try? await sink.write(head.buffer)
        case .success(_, .stream(let produce)):
            head.raw(",\"result\":")
            let prefix = head.buffer
            await sink.exclusively { exclusive in
                do {
                    try await exclusive.write(prefix)
                    try await produce(exclusive)
                    var tail = ByteBuffer()
                    tail.writeStaticString(terminate ? "}\n" : "}")
                    try await exclusive.write(tail)
                } catch {
                    // Part of the result is on the wire already: the only
                    // honest ending is to drop the connection.
                    logger.error("streamed result failed", metadata: ["error": "\(error)"])
                    await exclusive.abort()
                }
            }
        case .success(_, .subscribed):
            break  // written above
        }
        return nil
    }

    static func encode(_ error: ResponseError) -> Data {
        (try? JSONEncoder.wire().encode(error)) ?? Data("{\"code\":-32603,\"message\":\"internal error\"}".utf8)
    }
}

/// Collects a reply in memory (a batch member).
final class BufferSink: ReplySink, @unchecked Sendable {
    private(set) var bytes = ByteBuffer()
    func write(_ bytes: ByteBuffer) async throws {
        var copy = bytes
        self.bytes.writeBuffer(&copy)
    }
}
