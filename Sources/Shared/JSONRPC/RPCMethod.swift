/// One JSON-RPC method: its params are the conforming type itself, its
/// result the associated `Result`. The server's dispatch table and the typed
/// client are both built from these types.
public protocol RPCMethod: Codable, Sendable {
    associatedtype Result: Codable & Sendable
    static var method: String { get }
    /// Whether a call changes the node (audited, needs the operator role).
    static var changesNode: Bool { get }
}

extension RPCMethod {
    public static var changesNode: Bool { false }
}

/// The result of a method that answers with nothing but success.
public struct EmptyResult: Codable, Sendable, Hashable {
    public init() {}
}

/// Every method of protocol v1 that this build serves, in one list: the
/// server's dispatch table is built from it.
public enum ProtocolV1 {
    public static let methods: [any RPCMethod.Type] = [
        NodeInfo.self,
        ObjectUpload.self, ObjectList.self, ObjectGet.self, ObjectDelete.self,
        ProbeLoad.self, ProbeAttach.self, ProbeDetach.self, ProbeUnload.self, ProbeList.self, ProbeGet.self,
        MapList.self, MapSnapshot.self, MapLookup.self, MapUpdate.self, MapDelete.self,
        MapWatch.self, EventsSubscribe.self, SubscriptionCancel.self,
        IterRead.self,
    ]
}
