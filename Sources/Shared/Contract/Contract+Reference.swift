import Foundation

extension Contract {
    /// docs/api.md: per method what it does, its params and result, its
    /// errors and an example; then the notifications, the types and the
    /// error codes.
    public func reference() throws -> String {
        var out = """
        # API reference

        <!-- Made by `bpfleet protocol reference` from the method types in Sources/Shared: edit those, then run scripts/contract.sh. -->

        bpfleetd's JSON-RPC 2.0 protocol, version \(ProtocolV1.version): every method, notification and error
        code, with the fields of each. The same contract as an OpenRPC 1.3 document is in
        [openrpc.json](openrpc.json), and every node answers it to `rpc.discover`. How requests
        are framed and read, limits, and the decisions behind each method: [protocol.md](protocol.md).

        - A request is one line: `{"jsonrpc":"2.0","id":1,"method":"probe.get","params":{"probe":"execs"}}`.
          `params` is an object (by name); a method without params takes none or `{}`.
        - A result's object keys come in one order, sorted, so the same answer is the same bytes.
          Notifications of maps and events are written in the order their tables give.
        - A field marked optional may be left out; it is never `null`. Fields added in later
          versions are optional: a client reads a newer node's answers, and ignores what it does
          not know.
        - **Role**: `viewer` methods read; `operator` methods change the node and are audited
          (security.md).

        ## Methods

        | method | role | what it does |
        | --- | --- | --- |

        """
        for method in methods {
            out += "| [`\(method.type.method)`](#\(Self.anchor(method.type.method))) | \(method.role) | \(Self.cell(Self.firstSentence(method.type.wireSummary))) |\n"
        }
        for method in methods {
            out += "\n### \(method.type.method)\n\n\(method.type.wireSummary)\n\nRole: \(method.role).\n\n"
            if method.params.fields.isEmpty {
                out += "**Params**: none.\n\n"
            } else {
                out += "**Params**:\n\n" + Self.table(method.params)
            }
            if case .string(let reference)? = method.result["$ref"], let name = reference.split(separator: "/").last,
               let shape = objects[String(name)] {
                out += "**Result**: [\(name)](#\(Self.anchor(String(name))))"
                out += shape.fields.isEmpty ? ", `{}`.\n\n" : ":\n\n" + Self.table(shape)
            } else {
                out += "**Result**: \(Self.typeText(method.result)).\n\n"
            }
            let own = method.errors.filter { !ErrorContract.everyMethod.contains($0.code) }
            out += "**Errors**: " + (own.isEmpty ? "only those of every method" : own.map { "\($0.code.rawValue) \($0.name)" }.joined(separator: ", ")
                + "; and those of every method") + " ([Errors](#errors)).\n\n"
            out += "**Example**:\n\n```json\n"
            var request: [String: JSONValue] = ["jsonrpc": "2.0", "id": 1, "method": .string(method.type.method)]
            if case .object(let fields) = method.example.params, !fields.isEmpty { request["params"] = method.example.params }
            out += try Self.line(.object(request)) + "\n"
            out += try Self.line(["jsonrpc": "2.0", "id": 1, "result": method.example.result]) + "\n```\n"
        }
        out += "\n## Notifications\n\nThe node sends these on the connection that made the subscription, with no `id`.\n"
        for notification in notifications {
            out += "\n### \(notification.type.method)\n\n\(notification.type.wireSummary)\n\n**Params**:\n\n" + Self.table(notification.params)
            out += "**Example**:\n\n```json\n"
            out += try Self.line(["jsonrpc": "2.0", "method": .string(notification.type.method), "params": notification.example]) + "\n```\n"
        }
        out += "\n## Types\n"
        let methodTypes = Set(methods.map { WireShapes.componentName($0.type) } + notifications.map { WireShapes.componentName($0.type) })
        for name in objects.keys.sorted() where !methodTypes.contains(name) {
            guard let shape = objects[name] else { continue }
            out += "\n### \(name)\n\n\(shape.summary)\n\n"
            if !shape.variants.isEmpty {
                for case .object(let variant) in shape.variants {
                    guard case .object(let properties)? = variant["properties"], case .string(let tag)? = properties["type"]?["const"] else { continue }
                    guard case .array(let names)? = variant["required"] else { continue }
                    let required = Set(names.compactMap(\.stringValue))
                    out += "`\(tag)`:\n\n| field | type | required | description |\n| --- | --- | --- | --- |\n"
                    for (field, schema) in properties.sorted(by: { $0.key == "type" ? true : $1.key == "type" ? false : $0.key < $1.key }) {
                        let type = field == "type" ? "`\"\(tag)\"`" : Self.typeText(schema)
                        let description = schema["description"]?.stringValue ?? ""
                        out += "| `\(field)` | \(Self.cell(type)) | \(required.contains(field) ? "yes" : "no") | \(Self.cell(description)) |\n"
                    }
                    out += "\n"
                }
            } else if shape.fields.isEmpty {
                out += "An empty object, `{}`.\n"
            } else {
                out += Self.table(shape)
            }
        }
        let providedTypes = ["MapRef": MapRef.wireSchema(WireShapes()), "ValueFormat": ValueFormat.wireSchema(WireShapes()),
                             "WatchMode": WatchMode.wireSchema(WireShapes())]
        for (name, schema) in providedTypes.sorted(by: { $0.key < $1.key }) {
            out += "\n### \(name)\n\n"
            if let description = schema["description"]?.stringValue { out += description + "\n\n" }
            if case .array(let options)? = schema["oneOf"] {
                for option in options {
                    guard case .object(let properties)? = option["properties"] else { continue }
                    out += "- " + properties.keys.sorted().map { "`\($0)` (\(Self.typeText(properties[$0] ?? [:])))" }.joined(separator: " and ") + "\n"
                }
            } else {
                out += Self.typeText(schema) + ".\n"
            }
        }
        out += """

        ## Errors

        An error reply is `{"jsonrpc":"2.0","id":ID,"error":{"code":CODE,"message":TEXT,"data":DATA}}`.
        Every method may answer \(ErrorContract.everyMethod.map { String($0.rawValue) }.joined(separator: ", ")); each method
        above lists the others it answers. `data` is an object holding at least the members
        given; some errors add more (protocol.md says which).

        | code | name | when | `data` |
        | --- | --- | --- | --- |

        """
        for error in ErrorContract.all {
            let data = error.data.isEmpty ? "—" : error.data.map { "`\($0.name)` (\(typeText($0.schema))): \($0.description)" }.joined(separator: "<br>")
            out += "| \(error.code.rawValue) | \(error.name) | \(Self.cell(error.when)) | \(Self.cell(data)) |\n"
        }
        return out
    }

    private func typeText(_ schema: JSONValue) -> String { Self.typeText(schema) }

    /// A field table: name, type, whether it is required, what it says.
    static func table(_ shape: ObjectShape) -> String {
        var out = "| field | type | required | description |\n| --- | --- | --- | --- |\n"
        for field in shape.fields {
            out += "| `\(field.name)` | \(cell(typeText(field.schema))) | \(field.required ? "yes" : "no") | \(cell(field.description)) |\n"
        }
        return out + "\n"
    }

    /// A schema as a person reads a type: `integer 0 to 4294967295`,
    /// `array of [LoadedMap](#loadedmap)`.
    static func typeText(_ schema: JSONValue) -> String {
        if case .string(let reference)? = schema["$ref"], let name = reference.split(separator: "/").last {
            return "[\(name)](#\(anchor(String(name))))"
        }
        if case .array(let values)? = schema["enum"] {
            return values.compactMap(\.stringValue).map { "`\($0)`" }.joined(separator: ", ")
        }
        if let constant = schema["const"] { return "`\((try? line(constant)) ?? "")`" }
        if schema["oneOf"] != nil { return "one of several objects" }
        switch schema["type"]?.stringValue {
        case "string"?:
            if schema["format"] == "date-time" { return "string, a date (`2026-11-25T15:31:25Z`)" }
            if let pattern = schema["pattern"]?.stringValue { return "string matching `\(pattern)`" }
            return "string"
        case "integer"?:
            // Int64's own bounds say nothing a person needs.
            let minimum = schema["minimum"].flatMap { $0 == .int(Int64.min) ? nil : $0 }
            let maximum = schema["maximum"].flatMap { $0 == .int(Int64.max) ? nil : $0 }
            switch (minimum.flatMap(numberText), maximum.flatMap(numberText)) {
            case (let low?, let high?): return "integer, \(low) to \(high)"
            case (let low?, nil): return "integer, at least \(low)"
            case (nil, let high?): return "integer, at most \(high)"
            case (nil, nil): return "integer"
            }
        case "number"?: return "number"
        case "boolean"?: return "boolean"
        case "array"?: return "array of " + typeText(schema["items"] ?? [:])
        case "object"?:
            if let values = schema["additionalProperties"], values != .bool(false) { return "object of " + typeText(values) }
            return "object"
        default: return "any JSON"
        }
    }

    private static func numberText(_ value: JSONValue) -> String? {
        switch value {
        case .int(let number): String(number)
        case .uint(let number): String(number)
        default: nil
        }
    }

    /// GitHub's anchor of a heading: lower case, dots and other punctuation gone.
    static func anchor(_ heading: String) -> String {
        String(heading.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
    }

    static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|")
    }

    static func firstSentence(_ text: String) -> String {
        guard let end = text.range(of: ". ") else { return text }
        return String(text[..<end.lowerBound]) + "."
    }

    /// A value on one line, as the wire writes it.
    static func line(_ value: JSONValue) throws -> String {
        String(decoding: try JSONEncoder.wire().encode(value), as: UTF8.self)
    }
}
