/// A Kubernetes label selector (`role=web,zone notin (b, c),!canary`):
/// requirements that a node's labels must all meet. The syntax is
/// Kubernetes' own, so that people write what they already know:
///
/// | written | a node matches when |
/// | --- | --- |
/// | `key=value`, `key==value` | it has the label with that value |
/// | `key!=value` | it has not the label, or has another value |
/// | `key in (a, b)` | it has the label with one of the values |
/// | `key notin (a, b)` | it has not the label, or has none of the values |
/// | `key` | it has the label |
/// | `!key` | it has not the label |
///
/// A comma means AND; whitespace around tokens is ignored. Keys are
/// Kubernetes qualified names (`role`, `example.com/zone`), values are
/// Kubernetes label values (up to 63 letters, digits, `-`, `_`, `.`, or
/// empty). An empty selector matches every node, as in Kubernetes.
/// `<` and `>` (Kubernetes' numeric comparisons) are not taken.
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    public var requirements: [Requirement]

    public init(_ requirements: [Requirement]) {
        self.requirements = requirements
    }

    /// Parses a selector; a mistake is a `SyntaxError` naming its column.
    public init(parsing text: String) throws(SyntaxError) {
        var parser = LabelSelectorParser(text)
        self.requirements = try parser.parse()
    }

    /// Whether labels meet every requirement.
    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { $0.matches(labels) }
    }

    /// The selector in its usual spelling: `role=web,zone notin (b,c)`.
    public var description: String {
        requirements.map(\.description).joined(separator: ",")
    }

    /// One condition on one label.
    public struct Requirement: Sendable, Hashable, CustomStringConvertible {
        public enum Operator: Sendable, Hashable {
            /// `=` or `==`
            case equals
            /// `!=`
            case notEquals
            case `in`
            case notIn
            /// a bare key
            case exists
            /// `!key`
            case doesNotExist
        }

        public var key: String
        public var `operator`: Operator
        /// One value for `equals`/`notEquals`, one or more for `in`/`notIn`
        /// (in the order written, each once), none otherwise.
        public var values: [String]

        public init(key: String, _ operator: Operator, _ values: [String] = []) {
            self.key = key
            self.operator = `operator`
            self.values = values
        }

        public func matches(_ labels: [String: String]) -> Bool {
            let value = labels[key]
            switch self.operator {
            case .equals, .in:
                return value.map(values.contains) ?? false
            case .notEquals, .notIn:
                // Kubernetes: a node without the label is not in the set.
                return value.map { !values.contains($0) } ?? true
            case .exists:
                return value != nil
            case .doesNotExist:
                return value == nil
            }
        }

        public var description: String {
            switch self.operator {
            case .equals: "\(key)=\(values.first ?? "")"
            case .notEquals: "\(key)!=\(values.first ?? "")"
            case .in: "\(key) in (\(values.joined(separator: ",")))"
            case .notIn: "\(key) notin (\(values.joined(separator: ",")))"
            case .exists: key
            case .doesNotExist: "!\(key)"
            }
        }
    }

    /// A selector that does not parse: what is wrong and where.
    public struct SyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The selector as given.
        public var text: String
        /// Where the mistake starts, counting characters from 1; one past
        /// the end when something is missing at the end.
        public var column: Int
        public var message: String

        public init(text: String, column: Int, message: String) {
            self.text = text
            self.column = column
            self.message = message
        }

        /// "column 12: expected '(' after notin, found 'b'"
        public var description: String { "column \(column): \(message)" }

        /// The selector on a line of its own and a caret under the column,
        /// each line indented by `indent`, for messages to people.
        public func pointer(indent: String = "  ") -> String {
            let spaces = String(repeating: " ", count: max(0, column - 1))
            return "\(indent)\(text)\n\(indent)\(spaces)^"
        }
    }
}
