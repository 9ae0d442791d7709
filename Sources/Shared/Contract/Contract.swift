import Foundation

/// The protocol's contract, made from the method and notification types:
/// the OpenRPC 1.3 document `rpc.discover` answers (and docs/openrpc.json
/// holds), and the reference people read (docs/api.md).
public struct Contract {
    public struct Method {
        public var type: any RPCMethod.Type
        public var params: ObjectShape
        public var result: JSONValue
        public var example: (params: JSONValue, result: JSONValue)
        public var role: String { type.changesNode ? "operator" : "viewer" }
        public var errors: [ErrorContract] {
            let codes = Set(type.errors + ErrorContract.everyMethod)
            return ErrorContract.all.filter { codes.contains($0.code) }
        }
    }

    public struct Notification {
        public var type: any RPCNotification.Type
        public var params: ObjectShape
        public var example: JSONValue
    }

    public let methods: [Method]
    public let notifications: [Notification]
    /// Every object type the methods and notifications use, by name.
    public let objects: [String: ObjectShape]

    public init() throws {
        let shapes = WireShapes()
        methods = try ProtocolV1.methods.map { try Self.method($0, shapes) }
        notifications = try ProtocolV1.notifications.map { try Self.notification($0, shapes) }
        objects = shapes.objects
    }

    private static func method<M: RPCMethod>(_ type: M.Type, _ shapes: WireShapes) throws -> Method {
        _ = try shapes.schema(M.self)
        guard let params = shapes.objects[WireShapes.componentName(M.self)] else { throw ShapeError("no params shape of \(M.method)") }
        var result = try shapes.schema(M.Result.self)
        if result == [:] { result = ["type": "object", "description": "The OpenRPC 1.3 document."] }
        return Method(type: type, params: params, result: result,
                      example: (try wireValue(M.example), try wireValue(M.exampleResult)))
    }

    private static func notification<N: RPCNotification>(_ type: N.Type, _ shapes: WireShapes) throws -> Notification {
        _ = try shapes.schema(N.self)
        guard let params = shapes.objects[WireShapes.componentName(N.self)] else { throw ShapeError("no params shape of \(N.method)") }
        return Notification(type: type, params: params, example: try wireValue(N.example))
    }

    /// A value as the wire carries it.
    static func wireValue(_ value: some Encodable) throws -> JSONValue {
        try JSONDecoder.wire().decode(JSONValue.self, from: JSONEncoder.wire().encode(value))
    }

    // MARK: OpenRPC

    /// The OpenRPC 1.3 document. Server-sent notifications, which OpenRPC
    /// has no place for, are in `x-notifications`; each error's object
    /// schema is `components.schemas.Error<Name>`.
    public var openRPC: JSONValue {
        func parameters(_ shape: ObjectShape) -> JSONValue {
            .array(shape.fields.map { field in
                var descriptor: [String: JSONValue] = ["name": .string(field.name), "schema": field.schema, "required": .bool(field.required)]
                if !field.description.isEmpty { descriptor["description"] = .string(field.description) }
                return .object(descriptor)
            })
        }
        func exampleParams(_ value: JSONValue, _ shape: ObjectShape) -> JSONValue {
            .array(shape.fields.compactMap { field in
                value[field.name].map { ["name": .string(field.name), "value": $0] }
            })
        }
        let methodObjects: [JSONValue] = methods.map { method in
            [
                "name": .string(method.type.method),
                "summary": .string(method.type.wireSummary),
                "paramStructure": "by-name",
                "params": parameters(method.params),
                "result": ["name": "result", "schema": method.result],
                "errors": .array(method.errors.map { ["$ref": .string("#/components/errors/\($0.componentName)")] }),
                "examples": [[
                    "name": .string("\(method.type.method) example"),
                    "params": exampleParams(method.example.params, method.params),
                    "result": ["name": "result", "value": method.example.result],
                ]],
                "x-role": .string(method.role),
            ]
        }
        let notificationObjects: [JSONValue] = notifications.map { notification in
            [
                "name": .string(notification.type.method),
                "summary": .string(notification.type.wireSummary),
                "params": parameters(notification.params),
                "x-schema": ["$ref": .string("#/components/schemas/\(notification.params.name)")],
                "examples": [["name": .string("\(notification.type.method) example"), "params": notification.example]],
            ]
        }
        var schemas = objects.mapValues(\.schema)
        var errors: [String: JSONValue] = [:]
        for error in ErrorContract.all {
            schemas["Error\(error.componentName)"] = error.schema
            errors[error.componentName] = [
                "code": .int(Int64(error.code.rawValue)), "message": .string(error.name),
                "x-when": .string(error.when), "x-schema": ["$ref": .string("#/components/schemas/Error\(error.componentName)")],
            ]
        }
        return [
            "openrpc": "1.3.2",
            "info": [
                "title": "bpfleetd",
                "version": .string(ProtocolV1.version),
                "description": "The JSON-RPC 2.0 protocol of bpfleetd, the bpfleet node server: one JSON text per line over a Unix socket or TLS (docs/protocol.md). Results' object keys come sorted.",
            ],
            "methods": .array(methodObjects),
            "x-notifications": .array(notificationObjects),
            "components": ["schemas": .object(schemas), "errors": .object(errors)],
        ]
    }

    /// docs/openrpc.json: the document, pretty, keys sorted, a newline at the end.
    public func openRPCText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(openRPC), as: UTF8.self) + "\n"
    }
}
