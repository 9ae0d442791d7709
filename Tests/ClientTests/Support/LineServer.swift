import BpfleetShared
import Foundation
import NIOCore
import NIOPosix

/// A tiny JSON-RPC peer on a temporary Unix socket, answering by method name
/// so that tests can provoke each thing a real server may do:
///
/// - `echo`: answers with the params' raw text
/// - `fixed`: answers with `LineServer.fixedResult`, byte for byte
/// - `hold`: not answered until `holdCount` holds have arrived; then all are
///   answered in reverse order of arrival, each with its own params
/// - `fail`: a verifier-rejected error with a log
/// - `orphan`: an error with a null id
/// - `notify`: a notification first, then the answer `true`
/// - `drop`: closes the connection without answering
/// - `garbage`: a line that is not JSON
/// - `big`: a string result of `params.size` bytes
/// - `node.info`: a well-formed NodeInfo result
/// - `map.watch`, `events.subscribe`: a subscription id (1, 2, ... per
///   connection), then at once the notifications `SubscriptionScripts`
///   holds for the map's name; an unknown name is -32003
/// - `events.subscribe` of map `stream-NxR`: a subscription id, then N
///   `subscription.events` of R records each (`{"n":1}`, `{"n":2}`, ...,
///   `lost` 0), written only while the connection is writable, as a node
///   writes, and counted in `streamed`; then `subscription.end` with reason
///   `streamed`. A cancel does not stop it.
/// - `events.subscribe` of map `late`: a subscription id, and a second later
///   one notification (record 1) and the end
/// - `subscription.cancel`: `{}` (or nothing, sent as a notification)
/// - `push`: sends `params.notifications` ([{method, params}]) as
///   notifications, then answers `true`; an answer that also tells the test
///   every notification sent before it has been read
///
/// Started with `refuseAtConnect`, it answers every connection at once with
/// a -32001 error (id null) and closes it, as bpfleetd does to a peer with
/// no role.
///
/// Every message received is kept in `received`.
final class LineServer: Sendable {
    let path: String
    private let channel: any Channel
    let received: ReceivedMessages
    /// Notifications of `stream-NxR` subscriptions written, across connections.
    let streamed: StreamProgress

    static let fixedResult = #"{ "entries" : [ {"key":18446744073709551615,"value":{"comm":"b\"a}sh","pid":-1}} ], "é":"ü\u00e9" }"#

    var address: NodeAddress { .unix(path: path) }

    private init(path: String, channel: any Channel, received: ReceivedMessages, streamed: StreamProgress) {
        self.path = path
        self.channel = channel
        self.received = received
        self.streamed = streamed
    }

    static func start(holdCount: Int = 3, refuseAtConnect: Bool = false) async throws -> LineServer {
        let path = "/tmp/bpfleet-client-test-\(UUID().uuidString.prefix(8)).sock"
        let received = ReceivedMessages()
        let streamed = StreamProgress()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maximumLength: 1 << 20)))
                    try child.pipeline.syncOperations.addHandler(
                        ScriptedPeer(holdCount: holdCount, refuseAtConnect: refuseAtConnect, received: received, streamed: streamed))
                }
            }
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true)
            .get()
        return LineServer(path: path, channel: channel, received: received, streamed: streamed)
    }

    /// Runs `body` against a fresh server and removes it afterwards, also
    /// when `body` throws.
    static func with<Value>(holdCount: Int = 3, refuseAtConnect: Bool = false,
                            _ body: (LineServer) async throws -> Value) async throws -> Value {
        let server = try await start(holdCount: holdCount, refuseAtConnect: refuseAtConnect)
        do {
            let value = try await body(server)
            await server.stop()
            return value
        } catch {
            await server.stop()
            throw error
        }
    }

    func stop() async {
        try? await channel.close()
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// The per-connection behaviour of `LineServer`.
private final class ScriptedPeer: ChannelInboundHandler {
    typealias InboundIn = LineFrame
    typealias OutboundOut = ByteBuffer

    private let holdCount: Int
    private let refuseAtConnect: Bool
    private let received: ReceivedMessages
    private let streamed: StreamProgress
    private var held: [(id: String, params: String)] = []
    private var lastSubscription = 0
    /// The `stream-NxR` subscription being written, if any.
    private var stream: (subscription: Int, notifications: Int, records: Int, sent: Int)?

    init(holdCount: Int, refuseAtConnect: Bool, received: ReceivedMessages, streamed: StreamProgress) {
        self.holdCount = holdCount
        self.refuseAtConnect = refuseAtConnect
        self.received = received
        self.streamed = streamed
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        guard refuseAtConnect else { return }
        send(context, #"{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"unauthenticated: uid=1000 gid=1000 pid=1 has no role on this node","data":{"identity":"uid=1000 gid=1000 pid=1"}}}"#)
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        pump(context)
        context.fireChannelWritabilityChanged()
    }

    /// Writes the stream's next notifications while the connection takes
    /// them, as a node does: what the client does not read stays unwritten.
    private func pump(_ context: ChannelHandlerContext) {
        guard var current = stream else { return }
        var wrote = false
        while current.sent < current.notifications && context.channel.isWritable {
            current.sent += 1
            let first = (current.sent - 1) * current.records + 1
            let records = (first..<(first + current.records)).map { #"{"n":\#($0)}"# }.joined(separator: ",")
            var buffer = context.channel.allocator.buffer(capacity: 96 + 12 * current.records)
            buffer.writeString(#"{"jsonrpc":"2.0","method":"subscription.events","params":{"subscription":\#(current.subscription),"seq":\#(current.sent),"records":[\#(records)],"lost":0}}"# + "\n")
            context.write(wrapOutboundOut(buffer), promise: nil)
            streamed.add()
            wrote = true
        }
        if current.sent == current.notifications {
            stream = nil
            var buffer = context.channel.allocator.buffer(capacity: 96)
            buffer.writeString(#"{"jsonrpc":"2.0","method":"subscription.end","params":{"subscription":\#(current.subscription),"reason":"streamed"}}"# + "\n")
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
            return
        }
        stream = current
        if wrote { context.flush() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .line(let line) = unwrapInboundIn(data) else { return }
        let bytes = Array(line.readableBytesView)
        let members = try! bytes.withUnsafeBytes { try JSONScanner.members(of: $0) }
        func member(_ name: String) -> String? {
            guard let range = members.first(where: { $0.name == name })?.range else { return nil }
            return String(decoding: bytes[range], as: UTF8.self)
        }
        let id = member("id") ?? "null"
        let method = try! JSONDecoder().decode(String.self, from: Data(member("method")!.utf8))
        let params = member("params") ?? "null"
        received.append(ReceivedMessages.Message(method: method, params: params, isNotification: member("id") == nil))

        switch method {
        case "echo":
            send(context, #"{"jsonrpc":"2.0","id":\#(id),"result":\#(params)}"#)
        case "fixed":
            send(context, #"{"jsonrpc":"2.0","result":\#(LineServer.fixedResult),"id":\#(id)}"#)
        case "hold":
            held.append((id, params))
            if held.count == holdCount {
                for call in held.reversed() {
                    send(context, #"{"jsonrpc":"2.0","id":\#(call.id),"result":\#(call.params)}"#)
                }
                held.removeAll()
            }
        case "fail":
            send(context, #"{"jsonrpc":"2.0","id":\#(id),"error":{"code":-32006,"message":"program 'bad' rejected","data":{"program":"bad","log":"0: (b7) r0 = 0\n1: R1 invalid mem access 'scalar'\n\n","errno":13}}}"#)
        case "orphan":
            send(context, #"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"message over the 64 MiB limit"}}"#)
        case "notify":
            send(context, #"{"jsonrpc":"2.0","method":"subscription.test","params":{"subscription":7,"seq":1}}"#)
            send(context, #"{"jsonrpc":"2.0","id":\#(id),"result":true}"#)
        case "drop":
            context.close(promise: nil)
        case "garbage":
            send(context, "this is not json")
        case "big":
            let size = Int(params.filter(\.isNumber))!
            send(context, #"{"jsonrpc":"2.0","id":\#(id),"result":""# + String(repeating: "x", count: size) + #""}"#)
        case "node.info":
            send(context, #"{"jsonrpc":"2.0","id":\#(id),"result":{"hostname":"web-1","kernelRelease":"6.8.0","arch":"x86_64","serverVersion":"0.1.0","libbpfVersion":"1.3.0","btf":true,"programTypes":["kprobe"],"mapTypes":["hash"],"attachTargets":["kprobe"],"unsupportedTargets":{},"runStats":false,"startedAt":"2025-01-02T03:04:05Z","uptimeSeconds":12.5}}"#)
        case "map.watch", "events.subscribe":
            let decoded = try! JSONDecoder().decode(JSONValue.self, from: Data(params.utf8))
            let name = decoded["map"]?["name"]?.stringValue ?? ""
            if method == "events.subscribe", name.hasPrefix("stream-"), stream == nil {
                let counts = name.dropFirst("stream-".count).split(separator: "x").map { Int($0)! }
                lastSubscription += 1
                send(context, #"{"jsonrpc":"2.0","id":\#(id),"result":{"subscription":\#(lastSubscription)}}"#)
                stream = (lastSubscription, counts[0], counts[1], 0)
                pump(context)
                return
            }
            if method == "events.subscribe", name == "late" {
                lastSubscription += 1
                let subscription = lastSubscription
                send(context, #"{"jsonrpc":"2.0","id":\#(id),"result":{"subscription":\#(subscription)}}"#)
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: .seconds(1)) {
                    let (peer, context) = loopBound.value
                    peer.send(context, [
                        #"{"jsonrpc":"2.0","method":"subscription.events","params":{"subscription":\#(subscription),"seq":1,"records":[{"n":1}],"lost":0}}"#,
                        #"{"jsonrpc":"2.0","method":"subscription.end","params":{"subscription":\#(subscription),"reason":"late"}}"#,
                    ])
                }
                return
            }
            guard let script = SubscriptionScripts.notifications(method: method, map: name) else {
                send(context, #"{"jsonrpc":"2.0","id":\#(id),"error":{"code":-32003,"message":"no map \#(name)","data":{"map":"\#(name)"}}}"#)
                return
            }
            lastSubscription += 1
            let subscription = lastSubscription
            // The answer and the first notifications in one write: the
            // client must not lose a notification that follows its answer
            // at once.
            let lines = [#"{"jsonrpc":"2.0","id":\#(id),"result":{"subscription":\#(subscription)}}"#]
                + script.map { #"{"jsonrpc":"2.0","method":"\#($0.method)","params":\#($0.params(subscription))}"# }
            if name == "slow" {
                // Answered late, for a caller that gives up first.
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: .milliseconds(300)) {
                    let (peer, context) = loopBound.value
                    peer.send(context, lines)
                }
                return
            }
            send(context, lines)
        case "subscription.cancel":
            if member("id") != nil { send(context, #"{"jsonrpc":"2.0","id":\#(id),"result":{}}"#) }
        case "push":
            let decoded = try! JSONDecoder().decode(JSONValue.self, from: Data(params.utf8))
            guard case .array(let notifications)? = decoded["notifications"] else { fatalError("push needs notifications") }
            var lines: [String] = []
            for notification in notifications {
                let text = String(decoding: try! JSONEncoder().encode(notification["params"]!), as: UTF8.self)
                lines.append(#"{"jsonrpc":"2.0","method":"\#(notification["method"]!.stringValue!)","params":\#(text)}"#)
            }
            lines.append(#"{"jsonrpc":"2.0","id":\#(id),"result":true}"#)
            send(context, lines)
        default:
            send(context, #"{"jsonrpc":"2.0","id":\#(id),"error":{"code":-32601,"message":"method not found"}}"#)
        }
    }

    private func send(_ context: ChannelHandlerContext, _ line: String) {
        send(context, [line])
    }

    private func send(_ context: ChannelHandlerContext, _ lines: [String]) {
        var buffer = context.channel.allocator.buffer(capacity: 256)
        for line in lines {
            buffer.writeString(line)
            buffer.writeString("\n")
        }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }
}
