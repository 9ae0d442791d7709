import BpfleetShared
import Foundation
import TestSupport

extension LineClient {
    /// Writes `lines` (each without its newline) as fast as the socket
    /// takes them, never reading, until all are written or the server has
    /// taken nothing for `stall` seconds (it stopped reading). Returns how
    /// many lines went out whole; a line cut short by the stall is finished
    /// before returning, so that it counts too.
    func sendUntilStalled(_ lines: [String], stall: TimeInterval = 2) throws -> Int {
        var index = 0
        while index < lines.count {
            let bytes = Array((lines[index] + "\n").utf8)
            var offset = 0
            while offset < bytes.count {
                var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                if poll(&poller, 1, Int32(stall * 1000)) == 0 {
                    if offset == 0 { return index }
                    // Mid-line: finish it, however long that takes.
                    try sendRaw(Array(bytes[offset...]))
                    return index + 1
                }
                let n = bytes.withUnsafeBytes { raw in
                    Glibc.send(fd, raw.baseAddress.map { $0 + offset }, bytes.count - offset, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                }
                if n < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { continue }
                guard n > 0 else { throw TestFailure("send failed: \(String(cString: strerror(errno)))") }
                offset += n
            }
            index += 1
        }
        return index
    }

    /// Fills a `u32 -> u64` map with keys 0..<count (value = key), `window`
    /// updates at a time: fewer than a connection may have in flight.
    func fill(_ probe: String, _ map: String, count: Int, window: Int = 32) throws {
        let ref: JSONValue = ["probe": .string(probe), "name": .string(map)]
        for start in stride(from: 0, to: count, by: window) {
            let keys = start..<min(start + window, count)
            let lines = try keys.map { key -> String in
                let request: JSONValue = ["jsonrpc": "2.0", "id": .int(Int64(key)), "method": "map.update",
                                          "params": ["map": ref, "key": .int(Int64(key)), "value": .int(Int64(key))]]
                return String(decoding: try JSONEncoder().encode(request), as: UTF8.self)
            }
            try sendRaw(Array((lines.joined(separator: "\n") + "\n").utf8))
            for _ in keys {
                let reply = try readReply()
                guard reply["result"] != nil else { throw TestFailure("map.update failed: \(reply)") }
            }
        }
    }
}
