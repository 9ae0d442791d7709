/// `object.upload`: store a compiled BPF ELF object, content-addressed.
public struct ObjectUpload: RPCMethod, Hashable {
    public static let method = "object.upload"
    public static let changesNode = true
    /// The ELF bytes, base64.
    public var data: String
    public var name: String?
    /// Detached signatures of the bytes (`bpfleet sign`), for the node's
    /// object policy; kept with the object.
    public var signatures: [ObjectSignature]?

    public init(data: String, name: String? = nil, signatures: [ObjectSignature]? = nil) {
        self.data = data
        self.name = name
        self.signatures = signatures
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

extension ObjectUpload {
    /// Whether this upload carries a signature the node's copy of the
    /// object (`held`) does not have.
    public func lacksSignatures(of held: ObjectDescription) -> Bool {
        !Set(signatures ?? []).isSubset(of: Set(held.signatures ?? []))
    }

    public static let wireSummary = "Stores a compiled BPF ELF object on the node, content-addressed: the same bytes twice give the first description (with any new signatures added). The object is opened (not loaded) and described. A node with an object policy first checks the object's signatures against it."
    public static let wireFields: [String: WireField] = [
        "data": "The ELF bytes, base64.",
        "name": "A name for people (the file name, say).",
        "signatures": "Detached signatures of the bytes, as `bpfleet sign` writes them (at most 16). A node with an object policy refuses an object they do not satisfy (-32002, `data.policy` says what is missing); a node without one keeps them with the object and checks nothing.",
    ]
    public static let errors: [ErrorCode] = [.invalidParams, .permissionDenied, .invalidObject, .limitExceeded, .kernelError]
    public static let example = ObjectUpload(data: "f0VMRgIBAQAAAAAAAAAAAAEA9wABAAAAAAAAAAAAAAAAAAAAAAAAAA==", name: "exec_count.bpf.o")
    public static var exampleResult: ObjectDescription { .example }
}

extension ObjectList {
    public static let wireSummary = "Every object stored on the node."
    public static let wireFields: [String: WireField] = [:]
    public static let errors: [ErrorCode] = []
    public static let example = ObjectList()
    public static var exampleResult: Result { Result(objects: [.example]) }
}

extension ObjectList.Result: WireDocumented {
    public static let wireSummary = "The stored objects."
    public static let wireFields: [String: WireField] = ["objects": "Each stored object, oldest first."]
}

extension ObjectGet {
    public static let wireSummary = "One stored object's description."
    public static let wireFields: [String: WireField] = ["objectId": "The object's id (`sha256:` and the hex digest of its bytes)."]
    public static let errors: [ErrorCode] = [.notFound]
    public static var example: ObjectGet { ObjectGet(objectId: ObjectDescription.example.objectId) }
    public static var exampleResult: ObjectDescription { .example }
}

extension ObjectDelete {
    public static let wireSummary = "Removes a stored object that no probe uses."
    public static let wireFields: [String: WireField] = ["objectId": "The object's id."]
    public static let errors: [ErrorCode] = [.notFound, .conflict]
    public static var example: ObjectDelete { ObjectDelete(objectId: ObjectDescription.example.objectId) }
    public static let exampleResult = EmptyResult()
}
