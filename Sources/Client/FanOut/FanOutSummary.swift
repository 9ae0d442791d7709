/// How many nodes of a fan-out succeeded, failed or were unreachable: the
/// summary line people see and the exit status scripts see.
public struct FanOutSummary: Sendable, Hashable, CustomStringConvertible {
    public var ok: Int
    public var failed: Int
    public var unreachable: Int

    public init(ok: Int = 0, failed: Int = 0, unreachable: Int = 0) {
        self.ok = ok
        self.failed = failed
        self.unreachable = unreachable
    }

    public var total: Int { ok + failed + unreachable }

    public mutating func add(_ status: NodeStatus) {
        switch status {
        case .ok: ok += 1
        case .failed: failed += 1
        case .unreachable: unreachable += 1
        }
    }

    /// 0 when every node succeeded (or there were none), 1 when none did,
    /// 2 when some did and some did not. (64, a usage error, is decided
    /// before any node is asked.)
    public var exitStatus: Int32 {
        if ok == total { return 0 }
        return ok == 0 ? 1 : 2
    }

    /// "17 ok, 2 failed, 1 unreachable (of 20 nodes)"
    public var description: String {
        "\(ok) ok, \(failed) failed, \(unreachable) unreachable (of \(total) node\(total == 1 ? "" : "s"))"
    }
}
