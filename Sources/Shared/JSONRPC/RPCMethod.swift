/// One JSON-RPC method: its params are the conforming type itself, its
/// result the associated `Result`. The server's dispatch table, the typed
/// client and the contract (`rpc.discover`, docs/openrpc.json, docs/api.md)
/// are all built from these types.
public protocol RPCMethod: Codable, Sendable, WireDocumented {
    associatedtype Result: Codable & Sendable
    static var method: String { get }
    /// Whether a call changes the node (audited, needs the operator role).
    static var changesNode: Bool { get }
    /// bpfleet's own error codes (-32001 … -32010) this method answers
    /// besides those every method may (docs/api.md, "Errors").
    static var errors: [ErrorCode] { get }
    /// A call and its answer, for the reference; the contract test checks
    /// that both are what the schemas say.
    static var example: Self { get }
    static var exampleResult: Result { get }
}

extension RPCMethod {
    public static var changesNode: Bool { false }
}

/// A notification the server sends on a connection (a subscription's
/// updates and end): `params` are the conforming type.
public protocol RPCNotification: Codable, Sendable, WireDocumented {
    static var method: String { get }
    static var example: Self { get }
}

/// The result of a method that answers with nothing but success.
public struct EmptyResult: Codable, Sendable, Hashable, WireDocumented {
    public init() {}
    public static let wireSummary = "Success, with nothing to say: `{}`."
    public static let wireFields: [String: WireField] = [:]
}

/// Every method of the protocol this build serves, in one list: the
/// server's dispatch table is built from it.
public enum ProtocolV1 {
    /// The protocol's version: the major changes when a call that worked
    /// stops working, the minor when methods or fields are added. 1.1 added
    /// `rpc.discover` and `node.info`'s `protocolVersion` and `methods`;
    /// 1.2 the node-wide inventory (`node.programs`, `node.maps`,
    /// `node.links`), the node's kernel types (`node.btf`),
    /// `probe.verify` and the node's Prometheus metrics (`node.metrics`).
    public static let version = "1.2"

    public static let methods: [any RPCMethod.Type] = [
        NodeInfo.self, RPCDiscover.self,
        NodeBTF.self,
        ObjectUpload.self, ObjectList.self, ObjectGet.self, ObjectDelete.self,
        ProbeLoad.self, ProbeAttach.self, ProbeDetach.self, ProbeUnload.self, ProbeList.self, ProbeGet.self,
        ProbeVerify.self,
        MapList.self, MapSnapshot.self, MapLookup.self, MapUpdate.self, MapDelete.self,
        MapWatch.self, EventsSubscribe.self, SubscriptionCancel.self,
        IterRead.self,
        NodePrograms.self, NodeMaps.self, NodeLinks.self,
        NodeMetrics.self,
    ]

    /// Every notification the server sends.
    public static let notifications: [any RPCNotification.Type] = [
        MapNotification.self, EventsNotification.self, SubscriptionEnd.self,
    ]

    /// The names of `methods`, sorted: what `node.info` reports.
    public static var methodNames: [String] { methods.map { $0.method }.sorted() }
}
