import BpfleetShared
import Foundation
import Yams

/// Reads YAML nodes into manifest values, turning every surprise into a
/// `ManifestError` at the node's line and column, naming the field.
struct ManifestReader {
    let file: String

    /// One entry of a YAML mapping: its key as text and both nodes.
    struct Entry {
        var key: String
        var keyNode: Node
        var value: Node
    }

    /// A mapping's entries by key, each checked against the known keys.
    struct Fields {
        /// The mapping itself: where a missing key is reported.
        var node: Node
        var path: String
        var entries: [String: Entry]

        /// The value of `key`, nil when it is absent or null: an optional
        /// field left empty (`labels:`) is as good as not written.
        subscript(key: String) -> Node? {
            guard let value = entries[key]?.value, !ManifestReader.isNull(value) else { return nil }
            return value
        }
    }

    func error(_ node: Node?, _ field: String, _ message: String) -> ManifestError {
        ManifestError(file: file, line: node?.mark?.line, column: node?.mark?.column,
                      field: field.isEmpty ? nil : field, message)
    }

    /// The file's one document, nil when there is none (or only empty
    /// ones). The whole stream is read, so a YAML mistake anywhere in the
    /// file is reported.
    func document(_ yaml: String) throws(ManifestError) -> Node? {
        var documents: YamlSequence<Node>
        do {
            documents = try Yams.compose_all(yaml: yaml)
        } catch {
            throw syntaxError(error)
        }
        var found: Node?
        while let document = documents.next() {
            guard !Self.isNull(document) else { continue }
            guard found == nil else {
                throw ManifestError(file: file, line: document.mark?.line, column: document.mark?.column, field: nil,
                                    "a second YAML document: a manifest holds one probe (put each in its own file)")
            }
            found = document
        }
        if let failure = documents.error { throw syntaxError(failure) }
        return found
    }

    /// Every document of the file that is not empty, in order. The whole
    /// stream is read first, so a YAML mistake anywhere refuses it all.
    func documents(_ yaml: String) throws(ManifestError) -> [Node] {
        var documents: YamlSequence<Node>
        do {
            documents = try Yams.compose_all(yaml: yaml)
        } catch {
            throw syntaxError(error)
        }
        var found: [Node] = []
        while let document = documents.next() {
            if !Self.isNull(document) { found.append(document) }
        }
        if let failure = documents.error { throw syntaxError(failure) }
        return found
    }

    func syntaxError(_ error: any Error) -> ManifestError {
        switch error {
        case YamlError.scanner(let context, let problem, let mark, _),
             YamlError.parser(let context, let problem, let mark, _),
             YamlError.composer(let context, let problem, let mark, _):
            let while_ = context.map { " (\($0.text) at line \($0.mark.line))" } ?? ""
            return ManifestError(file: file, line: mark.line, column: mark.column, field: nil, "not valid YAML: \(problem)\(while_)")
        case YamlError.duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return ManifestError(file: file, line: context.mark.line, column: context.mark.column, field: nil,
                                 "\(keys) given twice in the same mapping")
        case YamlError.reader(let problem, _, _, _):
            return ManifestError(file: file, line: nil, column: nil, field: nil, "not readable as YAML: \(problem)")
        default:
            return ManifestError(file: file, line: nil, column: nil, field: nil, "not valid YAML: \(error)")
        }
    }

    // MARK: Shapes

    /// A mapping whose keys are all among `keys`; an unknown key is an
    /// error at the key, with the known key it is most likely a typo of.
    func mapping(_ node: Node, at path: String, keys: [String], what: String? = nil) throws(ManifestError) -> Fields {
        var fields = Fields(node: node, path: path, entries: [:])
        for entry in try entries(node, at: path, what: what) {
            guard keys.contains(entry.key) else {
                throw error(entry.keyNode, join(path, entry.key), "unknown key" + suggestion(for: entry.key, among: keys))
            }
            fields.entries[entry.key] = entry
        }
        return fields
    }

    /// A mapping's entries in file order, keys being non-empty scalars.
    func entries(_ node: Node, at path: String, what: String? = nil) throws(ManifestError) -> [Entry] {
        guard case .mapping(let mapping) = node else {
            throw error(node, path, "expected \(what ?? "a mapping (key: value)"), got \(kind(node))")
        }
        var entries: [Entry] = []
        var seen: [String: Node] = [:]
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key, !Self.isNull(key), !scalar.string.isEmpty else {
                throw error(key, path, "a key must be a word, got \(kind(key))")
            }
            // Yams refuses `a:` twice; `1:` and `"1":` are different nodes
            // to it but the same key here.
            if let first = seen[scalar.string] {
                throw error(key, join(path, scalar.string), "given twice (first at line \(first.mark?.line ?? 0))")
            }
            seen[scalar.string] = key
            entries.append(Entry(key: scalar.string, keyNode: key, value: value))
        }
        return entries
    }

    func sequence(_ node: Node, at path: String, what: String) throws(ManifestError) -> [Node] {
        guard case .sequence(let sequence) = node else {
            throw error(node, path, "expected \(what) (lines starting '- ', or [a, b]), got \(kind(node))")
        }
        return Array(sequence)
    }

    /// A scalar's text, whatever YAML takes it for (`7` is the text "7").
    func text(_ node: Node, at path: String, what: String = "a string") throws(ManifestError) -> String {
        guard case .scalar(let scalar) = node, !Self.isNull(node) else {
            throw error(node, path, "expected \(what), got \(kind(node))")
        }
        return scalar.string
    }

    /// A name: a non-empty scalar's text.
    func name(_ node: Node, at path: String, what: String = "a name") throws(ManifestError) -> String {
        let name = try text(node, at: path, what: what)
        guard !name.isEmpty else { throw error(node, path, "expected \(what), got an empty string") }
        return name
    }

    /// A list of distinct names.
    func names(_ node: Node, at path: String, what: String) throws(ManifestError) -> [String] {
        var names: [String] = []
        var seen: [String: Node] = [:]
        for (index, item) in try sequence(node, at: path, what: "a list of \(what)").enumerated() {
            let itemPath = "\(path)[\(index)]"
            let name = try self.name(item, at: itemPath)
            if let first = seen[name] {
                throw error(item, itemPath, "'\(name)' is listed twice (first at line \(first.mark?.line ?? 0))")
            }
            seen[name] = item
            names.append(name)
        }
        return names
    }

    /// A whole number written as a YAML integer (not a quoted string).
    func integer(_ node: Node, at path: String) throws(ManifestError) -> Int {
        guard case .scalar(let scalar) = node, Self.tagName(node) == .int else {
            throw error(node, path, "expected a whole number, got \(kind(node))")
        }
        let value: JSONValue
        do {
            value = try YAMLInteger.parse(scalar.string)
        } catch {
            throw self.error(node, path, error.message)
        }
        guard let number = value.int64Value.flatMap({ Int(exactly: $0) }) else {
            throw error(node, path, "\(scalar.string) is too large")
        }
        return number
    }

    // MARK: Values

    /// Any YAML value as JSON: a mapping is an object, a list an array,
    /// scalars what YAML resolves them to (integers exact over 64 bits).
    func json(_ node: Node, at path: String) throws(ManifestError) -> JSONValue {
        switch node {
        case .mapping:
            var object: [String: JSONValue] = [:]
            for entry in try entries(node, at: path) {
                object[entry.key] = try json(entry.value, at: join(path, entry.key))
            }
            return .object(object)
        case .sequence(let sequence):
            var array: [JSONValue] = []
            for (index, element) in sequence.enumerated() {
                array.append(try json(element, at: "\(path)[\(index)]"))
            }
            return .array(array)
        case .scalar(let scalar):
            return try json(scalar, node: node, at: path)
        case .alias:
            // Yams composes an alias into the node it names.
            throw error(node, path, "an alias Yams did not resolve")
        }
    }

    private func json(_ scalar: Node.Scalar, node: Node, at path: String) throws(ManifestError) -> JSONValue {
        switch Self.tagName(node) {
        case .null:
            return .null
        case .bool:
            guard let flag = node.bool else { throw error(node, path, "'\(scalar.string)' is not true or false") }
            return .bool(flag)
        case .int:
            do {
                return try YAMLInteger.parse(scalar.string)
            } catch {
                throw self.error(node, path, error.message)
            }
        case .float:
            let text = scalar.string.replacingOccurrences(of: "_", with: "")
            guard !text.contains(":") else {
                throw error(node, path, "'\(scalar.string)' is a base-60 number to YAML 1.1; write it in decimal, or quote it for a string")
            }
            guard let number = Double(text), number.isFinite else {
                throw error(node, path, "'\(scalar.string)' is not a finite number (JSON has no infinity or NaN)")
            }
            return .double(number)
        case .str, .timestamp, .merge, .value:
            return .string(scalar.string)
        default:
            throw error(node, path, "the tag \(node.tag) is not supported here (only YAML's str, int, float, bool and null)")
        }
    }

    // MARK: Words

    /// `~`, `null` or nothing at all, unquoted.
    static func isNull(_ node: Node) -> Bool {
        if case .scalar = node { return tagName(node) == .null }
        return false
    }

    /// What YAML resolved the node to (`.int`, `.str`, ...).
    static func tagName(_ node: Node) -> Tag.Name {
        Tag.Name(rawValue: node.tag.rawValue)
    }

    func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// " (did you mean 'x'?)" or " (known: a, b, c)".
    func suggestion(for word: String, among known: [String]) -> String {
        if let closest = KeySuggestion.closest(to: word, among: known) { return "; did you mean '\(closest)'?" }
        return " (known: \(known.joined(separator: ", ")))"
    }

    /// What a node is, for "expected X, got Y".
    func kind(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            let text = scalar.string.count > 40 ? scalar.string.prefix(37) + "..." : scalar.string
            switch Self.tagName(node) {
            case .null: return scalar.string.isEmpty ? "nothing" : "null"
            case .bool: return "the boolean \(text)"
            case .int: return "the integer \(text)"
            case .float: return "the number \(text)"
            default: return text.isEmpty ? "an empty string" : "the string '\(text)'"
            }
        }
    }
}
