import Foundation
import NIOCore

/// The kernel's word on who connected to the Unix socket (SO_PEERCRED),
/// plus the peer's supplementary groups from /proc as they were at connect.
enum PeerCredentials {
    /// `struct ucred`'s layout.
    private struct UCred: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    static func identify(_ channel: any Channel) async throws -> PeerIdentity {
        guard let provider = channel as? any SocketOptionProvider else {
            throw StartupError("the channel cannot report its peer's credentials")
        }
        let credentials: UCred = try await provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED)).get()
        return .unix(uid: credentials.uid, gid: credentials.gid, pid: credentials.pid,
                     groups: supplementaryGroups(of: credentials.pid))
    }

    private static func supplementaryGroups(of pid: Int32) -> [UInt32] {
        guard pid > 0, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Groups:") })
        else { return [] }
        return line.dropFirst("Groups:".count).split(whereSeparator: \.isWhitespace).compactMap { UInt32($0) }
    }
}
