/// What the contract says of one error code: when it is answered and what
/// its `data` holds. `data` members not listed may appear (a conflict says
/// what is in the way); the listed ones have the types given.
public struct ErrorContract: Sendable {
    public var code: ErrorCode
    public var when: String
    /// `data`'s members: name, schema, what it says.
    public var data: [(name: String, schema: JSONValue, description: String)]

    public var name: String { code.name }

    /// The component name (`NotFound`).
    public var componentName: String {
        code.name.split(separator: " ").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// The JSON Schema of the whole error object with this code.
    public var schema: JSONValue {
        var object: [String: JSONValue] = [
            "type": "object", "required": ["code", "message"], "additionalProperties": false,
            "properties": [
                "code": ["const": .int(Int64(code.rawValue))],
                "message": ["type": "string", "description": "What went wrong, for a person."],
            ],
        ]
        if !data.isEmpty, case .object(var properties)? = object["properties"] {
            properties["data"] = [
                "type": "object",
                "properties": .object(Dictionary(uniqueKeysWithValues: data.map { item in
                    var schema = item.schema
                    if case .object(var fields) = schema { fields["description"] = .string(item.description); schema = .object(fields) }
                    return (item.name, schema)
                })),
            ]
            object["properties"] = .object(properties)
        }
        return .object(object)
    }

    public static let string: JSONValue = ["type": "string"]
    public static let integer: JSONValue = ["type": "integer"]
    public static let boolean: JSONValue = ["type": "boolean"]
    public static let array: JSONValue = ["type": "array"]
    public static let any: JSONValue = [:]

    /// Every code the server answers, the specification's first.
    public static let all: [ErrorContract] = [
        ErrorContract(code: .parseError, when: "The line is not JSON. The reply's `id` is null.", data: []),
        ErrorContract(code: .invalidRequest, when: "Not a request object, an empty batch, or a line past a reading limit (nesting, values, batch members); the reply's `id` is the request's when it is valid, else null.", data: [
            ("limit", string, "The limit reached: `maxDepth`, `maxValues`, `maxBatchMembers`."),
            ("value", integer, "The limit's value."),
        ]),
        ErrorContract(code: .methodNotFound, when: "The node serves no method of that name (`node.info`'s `methods` lists those it does).", data: [
            ("method", string, "The method asked for."),
        ]),
        ErrorContract(code: .invalidParams, when: "`params` by position, a missing field, a wrong JSON type, a value out of range, a name that does not fit, a target field that names nothing.", data: [
            ("field", string, "The path to the offending field: `params.target.category`, `globals.min_uid`, `attach[0].program`."),
        ]),
        ErrorContract(code: .internalError, when: "A defect in bpfleetd; the node is as it was.", data: []),
        ErrorContract(code: .unauthenticated, when: "The peer has no role on this node (docs/security.md).", data: [
            ("identity", string, "Who the peer is: `uid 1000`, or the client certificate's subject."),
        ]),
        ErrorContract(code: .permissionDenied, when: "The peer's role does not allow the method, the call reaches a map bpfleet does not own in a way the node does not allow, or the node's object policy refuses the object (`object.upload`, and `probe.load` and `probe.verify` of a stored object; docs/security.md).", data: [
            ("method", string, "The method."),
            ("needs", string, "The role it needs: `viewer` or `operator`."),
            ("role", string, "The peer's role."),
            ("map", integer, "The id of the map bpfleet does not own that the call named."),
            ("foreign", boolean, "true: the refusal is of a map bpfleet does not own (writes to one are refused always)."),
            ("objectId", string, "The object the object policy refused."),
            ("policy", ["type": "object"], "What the object policy found: `file`, `requiredSignatures`, `unsigned`, `signers` (`[{keyId, name}]`), `untrustedKeys`, and `missing`, `invalidSignatures` (`[{keyId, reason}]`) or `allowed: false`."),
        ]),
        ErrorContract(code: .notFound, when: "A probe, object, program, map, link, map entry or subscription that does not exist.", data: [
            ("kind", string, "What was looked for: `probe`, `object`, `program`, `map`, `link`, `entry`, `subscription`."),
            ("name", string, "Its name, when it has one."),
            ("id", any, "Its id, when it is named by id."),
            ("key", any, "For an entry: the key."),
        ]),
        ErrorContract(code: .conflict, when: "A name already taken, an object still used, an existing key (`noexist`), a pin in the way, a probe in a state that forbids the call.", data: [
            ("state", string, "The probe's state, when that is what forbids the call."),
        ]),
        ErrorContract(code: .invalidObject, when: "An object libbpf cannot open, with malformed BTF, without programs, or whose object helper failed (docs/hostile-input.md).", data: [
            ("libbpf", string, "libbpf's messages."),
            ("helper", ["type": "object"], "How the object helper failed: `reason` (`timeLimit`, `memoryLimit`, `signal`, ...) and what goes with it."),
        ]),
        ErrorContract(code: .verifierRejected, when: "The kernel's verifier refused a program.", data: [
            ("program", string, "The program refused."),
            ("log", string, "The whole verifier log."),
            ("errno", integer, "The load's errno."),
            ("errnoName", string, "Its name (`EACCES`)."),
        ]),
        ErrorContract(code: .attachFailed, when: "The kernel refused an attachment.", data: [
            ("errno", integer, "The errno."),
            ("errnoName", string, "Its name."),
            ("target", any, "The target."),
            ("libbpf", string, "libbpf's messages."),
        ]),
        ErrorContract(code: .unsupported, when: "A target type or feature this kernel lacks, named.", data: [
            ("feature", string, "What is missing: `CONFIG_KPROBES`, `fentry (BPF trampoline)`, `tracefs`, ..."),
            ("program", string, "At `probe.load`: the program whose section names what is missing."),
            ("section", string, "That program's section."),
        ]),
        ErrorContract(code: .limitExceeded, when: "A configured limit was reached (docs/security.md).", data: [
            ("limit", string, "The limit: `maxMessageBytes`, `maxInFlight`, `maxSubscriptions`, `maxProbeMemory`, `maxEntries`, ..."),
            ("value", integer, "The limit's value."),
        ]),
        ErrorContract(code: .kernelError, when: "A system call failed for another reason; also a change refused because the audit log cannot take its record.", data: [
            ("errno", integer, "The errno."),
            ("errnoName", string, "Its name."),
            ("operation", string, "What was being done: `create map`, `audit log`, ..."),
        ]),
    ]

    /// The codes every method may answer, whatever it is.
    public static let everyMethod: [ErrorCode] = [.invalidRequest, .invalidParams, .internalError, .unauthenticated, .permissionDenied]
}
