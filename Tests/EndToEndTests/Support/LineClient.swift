import BpfleetShared
import Foundation
import TestSupport

/// A deliberately plain JSON-RPC client: raw lines on a Unix socket, so the
/// tests can send anything (broken JSON, oversized lines, half requests)
/// and see exactly what the server answers.
final class LineClient: @unchecked Sendable {
    let fd: Int32
    private var pending: [UInt8] = []
    private var nextID: Int64 = 1
    /// Notifications that arrived while a request waited for its reply.
    private var notifications: [JSONValue] = []
    /// The method of each request sent, by id, for `WireLog`.
    private var methods: [String: String] = [:]

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes.prefix(raw.count - 1))
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let code = errno
            Glibc.close(fd)
            throw TestFailure("connect \(path): \(String(cString: strerror(code)))")
        }
    }

    deinit { Glibc.close(fd) }

    func send(_ text: String) throws {
        try sendRaw(Array((text + "\n").utf8))
    }

    func sendRaw(_ bytes: [UInt8]) throws {
        // Requests sent by `request` are known already; a large one (an
        // upload) is not read again here.
        if WireLog.isOn, bytes.count <= 1 << 20 { remember(bytes) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw TestFailure("send failed: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    /// Shuts the sending side, as `nc -U` does at end of input.
    func finishSending() {
        shutdown(fd, Int32(SHUT_WR))
    }

    /// The next line, or nil when the server closed the connection.
    /// The default wait only catches a server that hangs: a reply slower
    /// than that is a defect on any machine that can run the suite (30 s
    /// was not enough for a 24 MB upload with the machine loaded 9-fold).
    func readLine(timeout: TimeInterval = 120) throws -> Data? {
        let deadline = Date().addingTimeInterval(timeout)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Data(pending[..<newline])
                pending.removeSubrange(...newline)
                if WireLog.isOn { record(line) }
                return line
            }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw TestFailure("no reply within \(timeout) s") }
            guard poll(&poller, 1, Int32(min(remaining, 1) * 1000)) > 0 else { continue }
            let n = Glibc.read(fd, &chunk, chunk.count)
            if n <= 0 { return nil }
            pending.append(contentsOf: chunk[..<n])
        }
    }

    /// The methods of the requests in what is sent (unparsable text is
    /// sent too: the tests send anything).
    private func remember(_ bytes: [UInt8]) {
        for text in bytes.split(separator: UInt8(ascii: "\n")) {
            guard let message = try? JSONDecoder().decode(JSONValue.self, from: Data(text)) else { continue }
            let requests: [JSONValue] = if case .array(let members) = message { members } else { [message] }
            for request in requests {
                if let id = request["id"], let method = request["method"]?.stringValue { methods[Self.key(id)] = method }
            }
        }
    }

    /// Each message of a line the node sent, with the method it answers.
    private func record(_ line: Data) {
        guard line.count <= WireLog.largestLine else {
            WireLog.record(method: nil, line: line)  // counted, not copied
            return
        }
        guard let message = try? JSONDecoder().decode(JSONValue.self, from: line) else {
            WireLog.record(method: nil, line: line)  // not JSON: the check says so
            return
        }
        guard case .array(let members) = message else {
            WireLog.record(method: message["id"].flatMap { methods[Self.key($0)] }, line: line, notification: message["id"] == nil)
            return
        }
        for member in members {
            guard let text = try? JSONEncoder().encode(member) else { continue }
            WireLog.record(method: member["id"].flatMap { methods[Self.key($0)] }, line: text)
        }
    }

    private static func key(_ id: JSONValue) -> String {
        switch id {
        case .string(let text): "s:" + text
        case .int(let number): String(number)
        case .uint(let number): String(number)
        default: "\(id)"
        }
    }

    /// The next reply, parsed.
    func readReply(timeout: TimeInterval = 120) throws -> JSONValue {
        guard let line = try readLine(timeout: timeout) else { throw TestFailure("connection closed") }
        return try JSONDecoder().decode(JSONValue.self, from: line)
    }

    /// Sends one request and returns the whole reply.
    func request(_ method: String, _ params: JSONValue? = nil) throws -> JSONValue {
        let id = nextID
        nextID += 1
        var message: [String: JSONValue] = ["jsonrpc": "2.0", "id": .int(id), "method": .string(method)]
        if let params { message["params"] = params }
        methods[String(id)] = method
        try send(String(decoding: try JSONEncoder().encode(JSONValue.object(message)), as: UTF8.self))
        // A subscription's notifications may come first: they are kept
        // for nextNotification, in order.
        var reply = try readReply()
        while reply["id"] == nil, reply["method"] != nil {
            notifications.append(reply)
            reply = try readReply()
        }
        guard reply["id"] == .int(id) else { throw TestFailure("reply for another id: \(reply)") }
        return reply
    }

    /// The next notification (a message with a method): one kept while a
    /// request waited, else the next one read; nil when the server closed
    /// the connection. Replies read meanwhile are skipped.
    func nextNotification(timeout: TimeInterval = 10) throws -> JSONValue? {
        if !notifications.isEmpty { return notifications.removeFirst() }
        while let line = try readLine(timeout: timeout) {
            let message = try JSONDecoder().decode(JSONValue.self, from: line)
            if message["method"] != nil { return message }
        }
        return nil
    }

    /// The result of a call that must succeed.
    @discardableResult
    func call(_ method: String, _ params: JSONValue? = nil) throws -> JSONValue {
        let reply = try request(method, params)
        guard let result = reply["result"] else { throw TestFailure("\(method) failed: \(reply["error"] ?? reply)") }
        return result
    }

    /// The error of a call that must fail.
    func callError(_ method: String, _ params: JSONValue? = nil) throws -> ResponseError {
        let reply = try request(method, params)
        guard let error = reply["error"] else { throw TestFailure("\(method) succeeded, expected an error: \(reply)") }
        return try JSONDecoder().decode(ResponseError.self, from: JSONEncoder().encode(error))
    }
}

extension LineClient {
    /// Uploads a program from programs/build and returns its object id.
    func upload(_ program: String) throws -> String {
        let data = try TestEnvironment.program(program)
        let result = try call("object.upload", ["data": .string(data.base64EncodedString()), "name": .string(program)])
        guard let id = result["objectId"]?.stringValue else { throw TestFailure("no objectId in \(result)") }
        return id
    }

    /// Uploads and loads a program as a probe; returns the probe description.
    @discardableResult
    func load(_ program: String, as name: String, globals: [String: JSONValue]? = nil) throws -> JSONValue {
        let objectId = try upload(program)
        var params: [String: JSONValue] = ["name": .string(name), "objectId": .string(objectId)]
        if let globals { params["globals"] = .object(globals) }
        return try call("probe.load", .object(params))
    }

    /// A counter's value (`map.lookup`): 0 when the reply carries none.
    func counter(_ probe: String, _ map: String, _ key: JSONValue) throws -> UInt64 {
        try call("map.lookup", ["map": ["probe": .string(probe), "name": .string(map)], "key": key])["value"]?.uint64Value ?? 0
    }

    /// The counter at an array index.
    func counter(_ probe: String, _ map: String, _ index: Int) throws -> UInt64 {
        try counter(probe, map, .int(Int64(index)))
    }

    /// Every entry of a map, as typed JSON.
    func snapshot(_ probe: String, _ map: String, format: String = "typed") throws -> [JSONValue] {
        let result = try call("map.snapshot", ["map": ["probe": .string(probe), "name": .string(map)], "format": .string(format)])
        guard case .array(let entries)? = result["entries"] else { throw TestFailure("no entries in \(result)") }
        return entries
    }
}

extension JSONValue {
    var arrayValue: [JSONValue] {
        if case .array(let items) = self { return items }
        return []
    }
}

extension ServerProcess {
    /// A new connection to the server's Unix socket.
    func client() throws -> LineClient {
        try LineClient(path: socketPath)
    }
}
