import Foundation
import TestSupport

/// A TCP connection to 127.0.0.1:`port`: its descriptor, which the caller
/// closes.
func loopbackConnection(port: UInt16) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        let failure = errno
        close(fd)
        throw TestFailure("connect to 127.0.0.1:\(port): errno \(failure)")
    }
    return fd
}

/// Whether the peer ends the connection without sending a byte, waiting
/// at most `milliseconds` for it to say anything.
func endedWithoutAWord(_ fd: Int32, milliseconds: Int32 = 60_000) -> Bool {
    var byte: UInt8 = 0
    var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    guard poll(&poller, 1, milliseconds) > 0 else { return false }  // still open, silent: not ended
    return read(fd, &byte, 1) == 0
}
