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
final class LineServer: Sendable {
    let path: String
    private let channel: any Channel

    static let fixedResult = #"{ "entries" : [ {"key":18446744073709551615,"value":{"comm":"b\"a}sh","pid":-1}} ], "é":"ü\u00e9" }"#

    var address: NodeAddress { .unix(path: path) }

    private init(path: String, channel: any Channel) {
        self.path = path
        self.channel = channel
    }

    static func start(holdCount: Int = 3) async throws -> LineServer {
        let path = "/tmp/bpfleet-client-test-\(UUID().uuidString.prefix(8)).sock"
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maximumLength: 1 << 20)))
                    try child.pipeline.syncOperations.addHandler(ScriptedPeer(holdCount: holdCount))
                }
            }
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true)
            .get()
        return LineServer(path: path, channel: channel)
    }

    /// Runs `body` against a fresh server and removes it afterwards, also
    /// when `body` throws.
    static func with<Value>(holdCount: Int = 3, _ body: (LineServer) async throws -> Value) async throws -> Value {
        let server = try await start(holdCount: holdCount)
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
    private var held: [(id: String, params: String)] = []

    init(holdCount: Int) {
        self.holdCount = holdCount
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
        default:
            send(context, #"{"jsonrpc":"2.0","id":\#(id),"error":{"code":-32601,"message":"method not found"}}"#)
        }
    }

    private func send(_ context: ChannelHandlerContext, _ line: String) {
        var buffer = context.channel.allocator.buffer(capacity: line.utf8.count + 1)
        buffer.writeString(line)
        buffer.writeString("\n")
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }
}
