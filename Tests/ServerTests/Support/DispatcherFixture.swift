@testable import BpfleetServer
import BpfleetShared
import Foundation
import Logging
import NIOCore
import NIOPosix

/// A `Dispatcher` that needs neither root nor a kernel: it serves the
/// stand-in methods below instead of `ProtocolV1.methods`, over a
/// `CallContext` whose registry was never asked to load anything, and
/// records the bytes each reply writes.
struct DispatcherFixture {
    let dispatcher: Dispatcher
    let stateDirectory: String

    /// `roles`: the text of a roles file, or nil for no role book (every
    /// peer an operator, as the dispatcher's unit use has it).
    init(roles: String? = nil) throws {
        stateDirectory = NSTemporaryDirectory() + "bpfleet-dispatcher-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        var roleBook: RoleBook?
        if let roles {
            let path = stateDirectory + "/roles.yaml"
            try roles.write(toFile: path, atomically: true, encoding: .utf8)
            roleBook = try RoleBook(path: path)
        }
        let logger = Logger(label: "dispatcher-tests")
        // What the kernel would have said, made up: nothing here reads it.
        let features = KernelFeatures(kernelRelease: "test", arch: "test", btf: false, programTypes: [], mapTypes: [],
                                      tracefs: nil, unsupportedTargets: [:])
        let registry = try ProbeRegistry(
            kernelLoop: MultiThreadedEventLoopGroup.singleton.next(), stateDirectory: stateDirectory,
            pinRoot: stateDirectory + "/pins", maxProbeMemory: 1 << 20, features: features,
            helper: ObjectHelper(executable: "/nonexistent/bpfleetd-object-helper", limits: HelperLimits(), logger: logger),
            logger: logger)
        let startedAt = Date()
        let context = CallContext(registry: registry, features: features, startedAt: startedAt,
                                  nodeFacts: try NodeFacts(features: features, startedAt: startedAt), threadPool: NIOThreadPool.singleton,
                                  hub: SubscriptionHub(maxPerConnection: 1), maxQueuedEvents: 1, logger: logger)
        let methods: [any ServedMethod.Type] = [Echo.self, Change.self]
        dispatcher = Dispatcher(context: context, roles: roleBook, audit: nil, logger: logger,
                                methods: Dictionary(uniqueKeysWithValues: methods.map { ($0.method, $0) }))
    }

    /// Removes the state directory.
    func remove() {
        try? FileManager.default.removeItem(atPath: stateDirectory)
    }

    /// Root on the Unix socket.
    static let root = PeerIdentity.unix(uid: 0, gid: 0, pid: 1, groups: [])

    /// Hands `line` to the dispatcher as `peer` would send it; returns
    /// every byte written in reply ("" when there was none).
    func send(_ line: String, from peer: PeerIdentity = root,
              admission: BatchAdmission = .unaccounted(maxMembers: 64)) async -> String {
        let sink = RecordingSink()
        await dispatcher.handle(ByteBuffer(string: line), from: peer, on: ConnectionHandle(sink: sink), admission: admission)
        return sink.text
    }
}

/// Keeps what a reply wrote.
final class RecordingSink: ReplySink, @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: [UInt8] = []

    var text: String { lock.withLock { String(decoding: bytes, as: UTF8.self) } }

    func write(_ bytes: ByteBuffer) async throws {
        lock.withLock { self.bytes += bytes.readableBytesView }
    }
}

/// Which stand-in calls ran, by tag: a notification gets no reply, so
/// this is how a test sees that it ran (or that it was refused).
final class CallLog: @unchecked Sendable {
    static let shared = CallLog()
    private let lock = NSLock()
    private var tags: [String] = []

    func record(_ tag: String) { lock.withLock { tags.append(tag) } }
    func count(_ tag: String) -> Int { lock.withLock { tags.filter { $0 == tag }.count } }
}

/// A reading method (viewers may call it): answers its text.
struct Echo: ValueMethod {
    static let method = "test.echo"
    struct Result: Codable, Sendable { var text: String }
    var text: String
    static let wireSummary = "Answers its text."
    static let wireFields: [String: WireField] = ["text": "The text."]
    static let errors: [ErrorCode] = []
    static let example = Echo(text: "hello")
    static let exampleResult = Result(text: "hello")

    func handle(_ context: CallContext) async throws -> Result {
        CallLog.shared.record(text)
        return Result(text: text)
    }
}

/// A changing method (operators only): records its tag.
struct Change: ValueMethod {
    static let method = "test.change"
    static let changesNode = true
    typealias Result = EmptyResult
    var tag: String
    static let wireSummary = "Records its tag."
    static let wireFields: [String: WireField] = ["tag": "The tag."]
    static let errors: [ErrorCode] = []
    static let example = Change(tag: "a")
    static let exampleResult = EmptyResult()

    func handle(_ context: CallContext) async throws -> EmptyResult {
        CallLog.shared.record(tag)
        return EmptyResult()
    }
}

/// An error reply in two parts: its bytes up to the error object, fixed on
/// the wire (`{"jsonrpc":"2.0","id":ID,"error":`), and the error object
/// parsed, since the order of its keys is not part of the protocol. nil
/// when the reply is not one error object closing its line.
func errorReply(_ reply: String) -> (head: String, error: JSONValue)? {
    // The error object alone: an id such as 1e400 is not one JSONDecoder reads.
    guard reply.hasSuffix("}\n"), let range = reply.range(of: #","error":"#) else { return nil }
    let object = reply[range.upperBound..<reply.index(reply.endIndex, offsetBy: -2)]
    guard let error = try? JSONDecoder().decode(JSONValue.self, from: Data(object.utf8)) else { return nil }
    return (String(reply[..<range.upperBound]), error)
}
