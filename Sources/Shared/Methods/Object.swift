/// `object.upload`: store a compiled BPF ELF object, content-addressed.
public struct ObjectUpload: RPCMethod, Hashable {
    public static let method = "object.upload"
    public static let changesNode = true
    /// The ELF bytes, base64.
    public var data: String
    public var name: String?

    public init(data: String, name: String? = nil) {
        self.data = data
        self.name = name
    }

    public typealias Result = ObjectDescription
}

/// `object.list`: every stored object.
public struct ObjectList: RPCMethod {
    public static let method = "object.list"
    public init() {}

    public struct Result: Codable, Sendable, Hashable {
        public var objects: [ObjectDescription]
        public init(objects: [ObjectDescription]) { self.objects = objects }
    }
}

/// `object.get`: one stored object's description.
public struct ObjectGet: RPCMethod {
    public static let method = "object.get"
    public var objectId: String
    public init(objectId: String) { self.objectId = objectId }
    public typealias Result = ObjectDescription
}

/// `object.delete`: remove a stored object no probe uses.
public struct ObjectDelete: RPCMethod {
    public static let method = "object.delete"
    public static let changesNode = true
    public var objectId: String
    public init(objectId: String) { self.objectId = objectId }
    public typealias Result = EmptyResult
}
