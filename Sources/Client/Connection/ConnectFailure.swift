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
/// what to check, and whether trying again may help.
enum ConnectFailure {
    static func describe(_ error: Error, address: NodeAddress, timeout: Duration) -> ClientError {
        switch error {
        case ClientError.timedOut(let address, let after):
            // The TLS handshake's deadline: still connecting.
            return .connectTimedOut(address, after: after)
        case ClientError.connectionClosed(let address, let reason):
            // Closed before the connection was ready: the node was not reached.
            return .cannotConnect(address, reason: "the connection closed \(reason ?? "before it was ready")", hint: nil)
        case let error as ClientError:
            return error
        case ChannelError.connectTimeout:
            return .connectTimedOut(address, after: timeout)
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

    /// Whether another attempt may succeed: the node may be starting,
    /// restarting, or briefly overwhelmed (refused, reset, timed out,
    /// host or network unreachable, a full Unix socket backlog). A missing
    /// socket, a refusal of permission, a name that does not resolve and
    /// TLS failures stay as they are until someone changes something.
    static func isTransient(_ error: Error) -> Bool {
        switch error {
        case ChannelError.connectTimeout, ClientError.timedOut:
            return true
        case let error as IOError:
            return [ECONNREFUSED, ECONNRESET, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH, EAGAIN].contains(error.errnoCode)
        case let error as NIOConnectionError:
            // Every resolved address failed: transient when the first did
            // so for a transient reason (resolution failures are not).
            return error.connectionErrors.first.map { isTransient($0.error) } ?? false
        default:
            return false
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

/// One attempt at connecting that failed: what to tell people, and whether
/// another attempt may succeed. Only `NodeConnection.attempt` throws it;
/// callers see `error`.
struct ConnectAttemptFailure: Error {
    var error: ClientError
    var isTransient: Bool
}
