import Foundation
import Logging
import NIOConcurrencyHelpers
import Yams

/// The roles file (`--roles FILE`, YAML): which peers are viewers and which
/// operators. Read at start and again on SIGHUP; a file that does not parse
/// on reload leaves the roles as they were. See docs/security.md.
public final class RoleBook: Sendable {
    /// One role's grants, as the file spells them.
    struct Grants: Decodable, Sendable, Equatable {
        var uids: [UInt32]?
        var gids: [UInt32]?
        var users: [String]?
        var groups: [String]?
        var subjects: [String]?
        var commonNames: [String]?
        var sans: [String]?
    }

    /// The file as written.
    struct File: Decodable, Sendable {
        var operators: Grants?
        var viewers: Grants?
        /// uid 0 on the Unix socket when no grant names it (default operator).
        var root: String?
        /// Peers of an `--insecure-plaintext` loopback listener (default none).
        var plaintext: String?
    }

    /// Grants with names resolved to ids.
    struct Rules: Sendable {
        var operators = Resolved()
        var viewers = Resolved()
        var root: Role? = .operator
        var plaintext: Role?
    }

    struct Resolved: Sendable {
        var uids: Set<UInt32> = []
        var gids: Set<UInt32> = []
        var subjects: Set<String> = []
        var commonNames: Set<String> = []
        var sans: Set<String> = []

        func matches(_ peer: PeerIdentity) -> Bool {
            switch peer {
            case .unix(let uid, let gid, _, let groups):
                return uids.contains(uid) || gids.contains(gid) || groups.contains(where: gids.contains)
            case .certificate(let subject, let commonName, let alternativeNames):
                return subjects.contains(subject) || commonName.map(commonNames.contains) == true
                    || alternativeNames.contains(where: sans.contains)
            case .plaintext:
                return false
            }
        }
    }

    let path: String?
    private let rules: NIOLockedValueBox<Rules>

    /// With no file, only root on the Unix socket is let in (as operator).
    public init(path: String?) throws {
        self.path = path
        self.rules = NIOLockedValueBox(try path.map(Self.load) ?? Rules())
    }

    /// The peer's role, or nil when it has none (unauthenticated).
    public func role(of peer: PeerIdentity) -> Role? {
        let rules = rules.withLockedValue { $0 }
        if rules.operators.matches(peer) { return .operator }
        if rules.viewers.matches(peer) { return .viewer }
        switch peer {
        case .unix(uid: 0, _, _, _): return rules.root
        case .plaintext: return rules.plaintext
        default: return nil
        }
    }

    /// Reads the file again; on failure the current roles stay.
    public func reload() throws {
        guard let path else { return }
        let fresh = try Self.load(path)
        rules.withLockedValue { $0 = fresh }
    }

    static func load(_ path: String) throws -> Rules {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StartupError("cannot read the roles file \(path)")
        }
        return try rules(from: data, in: path)
    }

    /// The rules a roles file's bytes give; `path` names the file in errors.
    static func rules(from data: Data, in path: String) throws -> Rules {
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: data)
        } catch {
            throw StartupError("roles file \(path): \(error)")
        }
        var rules = Rules()
        rules.operators = try resolve(file.operators, in: path)
        rules.viewers = try resolve(file.viewers, in: path)
        rules.root = try role(file.root, default: .operator, key: "root", in: path)
        rules.plaintext = try role(file.plaintext, default: nil, key: "plaintext", in: path)
        return rules
    }

    private static func role(_ text: String?, default fallback: Role?, key: String, in path: String) throws -> Role? {
        guard let text else { return fallback }
        if text == "none" { return nil }
        guard let role = Role(rawValue: text) else {
            throw StartupError("roles file \(path): \(key) must be operator, viewer or none, not '\(text)'")
        }
        return role
    }

    private static func resolve(_ grants: Grants?, in path: String) throws -> Resolved {
        guard let grants else { return Resolved() }
        var resolved = Resolved()
        resolved.uids = Set(grants.uids ?? [])
        resolved.gids = Set(grants.gids ?? [])
        for user in grants.users ?? [] {
            guard let entry = getpwnam(user) else { throw StartupError("roles file \(path): no user named '\(user)'") }
            resolved.uids.insert(entry.pointee.pw_uid)
        }
        for group in grants.groups ?? [] {
            guard let entry = getgrnam(group) else { throw StartupError("roles file \(path): no group named '\(group)'") }
            resolved.gids.insert(entry.pointee.gr_gid)
        }
        resolved.subjects = Set(grants.subjects ?? [])
        resolved.commonNames = Set(grants.commonNames ?? [])
        resolved.sans = Set(grants.sans ?? [])
        return resolved
    }
}
