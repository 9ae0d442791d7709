import BpfleetShared

/// Who is on the other end of a connection, as the transport proved it:
/// the kernel's SO_PEERCRED on the Unix socket, the verified client
/// certificate on TLS, nothing on a plaintext loopback listener.
public enum PeerIdentity: Sendable, Hashable, CustomStringConvertible {
    case unix(uid: UInt32, gid: UInt32, pid: Int32, groups: [UInt32])
    case certificate(subject: String, commonName: String?, subjectAlternativeNames: [String])
    case plaintext(address: String)

    /// The key connection limits are counted by.
    public var limitKey: String {
        switch self {
        case .unix(let uid, _, _, _): "uid:\(uid)"
        case .certificate(let subject, _, _): "cert:\(subject)"
        case .plaintext: "plaintext"
        }
    }

    public var description: String {
        switch self {
        case .unix(let uid, let gid, let pid, _): "uid=\(uid) gid=\(gid) pid=\(pid)"
        case .certificate(let subject, _, _): "cert \(subject)"
        case .plaintext(let address): "plaintext \(address)"
        }
    }

    /// The identity as the audit log records it.
    public var auditRecord: JSONValue {
        switch self {
        case .unix(let uid, let gid, let pid, _):
            ["transport": "unix", "uid": .int(Int64(uid)), "gid": .int(Int64(gid)), "pid": .int(Int64(pid))]
        case .certificate(let subject, _, let sans):
            ["transport": "tls", "subject": .string(subject), "sans": .array(sans.map(JSONValue.string))]
        case .plaintext(let address):
            ["transport": "tcp-plaintext", "address": .string(address)]
        }
    }
}

/// What a peer may do. Viewers read; operators also change the node.
public enum Role: String, Sendable, Hashable, Codable, Comparable, CaseIterable {
    case viewer
    case `operator`

    public static func < (lhs: Role, rhs: Role) -> Bool {
        lhs == .viewer && rhs == .operator
    }

    /// The role a method needs.
    static func needed(by method: any RPCMethod.Type) -> Role {
        method.changesNode ? .operator : .viewer
    }
}
