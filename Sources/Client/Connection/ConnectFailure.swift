import BpfleetShared
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a connection could not be made, said so that the operator knows
/// what to check.
enum ConnectFailure {
    static func describe(_ error: Error, address: NodeAddress, timeout: Duration) -> ClientError {
        switch error {
        case let error as ClientError:
            return error
        case ChannelError.connectTimeout:
            return .timedOut(address, after: timeout)
        case let error as IOError:
            return .cannotConnect(address, reason: ErrnoText.describe(error.errnoCode), hint: hint(error.errnoCode))
        case let error as NIOConnectionError:
            // TCP: every resolved address failed, or resolution did.
            if let first = error.connectionErrors.first {
                return describe(first.error, address: address, timeout: timeout)
            }
            if let resolution = error.dnsAError ?? error.dnsAAAAError {
                return .cannotConnect(address, reason: "cannot resolve \(error.host): \(resolution)", hint: nil)
            }
            return .cannotConnect(address, reason: "\(error)", hint: nil)
        case SocketAddressError.unixDomainSocketPathTooLong:
            return .cannotConnect(address, reason: "socket path is too long for a Unix socket", hint: nil)
        default:
            return .cannotConnect(address, reason: "\(error)", hint: nil)
        }
    }

    static func hint(_ code: Int32) -> String? {
        switch code {
        case ENOENT, ECONNREFUSED: "is bpfleetd running?"
        case EACCES, EPERM: "is your user in the socket's group?"
        case EHOSTUNREACH, ENETUNREACH: "is the node up and the network reachable?"
        default: nil
        }
    }
}
