import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A stream Unix socket bound to `path`, not yet listening: the tests'
/// nodes that never answer start from it. Throws naming the path and errno.
public func boundUnixSocket(_ path: String) throws -> Int32 {
    let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw TestFailure("socket for \(path): \(String(cString: strerror(errno)))") }
    var name = sockaddr_un()
    name.sun_family = sa_family_t(AF_UNIX)
    guard path.utf8.count < MemoryLayout.size(ofValue: name.sun_path) else {
        close(descriptor)
        throw TestFailure("\(path): too long for a Unix socket")
    }
    withUnsafeMutableBytes(of: &name.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
    let bound = withUnsafePointer(to: &name) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard bound == 0 else {
        let error = errno
        close(descriptor)
        throw TestFailure("cannot bind \(path): \(String(cString: strerror(error)))")
    }
    return descriptor
}
