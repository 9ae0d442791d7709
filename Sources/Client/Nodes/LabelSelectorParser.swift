/// Reads Kubernetes selector syntax the way Kubernetes' own parser does
/// (k8s.io/apimachinery/pkg/labels): a word is any run of characters other
/// than whitespace and `= ! ( ) , < >`; `in` and `notin` are operators only
/// where an operator goes, so `in=x` selects on a label named `in`; `key=`
/// is the empty value; `in ()`, `in (a,)` include the empty value.
struct LabelSelectorParser {
    private let text: String
    private let tokens: [Token]
    private var position = 0

    init(_ text: String) {
        self.text = text
        self.tokens = Self.tokens(of: text)
    }

    private struct Token {
        enum Kind: Equatable {
            case word(String)
            case symbol(String)
            case end
        }

        var kind: Kind
        /// Characters from 1.
        var column: Int

        /// How a message names it: `'role'`, `'('`, or the end.
        var shown: String {
            switch kind {
            case .word(let word): "'\(word)'"
            case .symbol(let symbol): "'\(symbol)'"
            case .end: "the end"
            }
        }
    }

    private static let symbols: Set<Character> = ["=", "!", "(", ")", ",", "<", ">"]

    private static func tokens(of text: String) -> [Token] {
        let characters = Array(text)
        var tokens: [Token] = []
        var index = 0
        while index < characters.count {
            let character = characters[index]
            let column = index + 1
            if character.isWhitespace {
                index += 1
            } else if symbols.contains(character) {
                let pair = index + 1 < characters.count && characters[index + 1] == "="
                    && (character == "=" || character == "!")
                tokens.append(Token(kind: .symbol(pair ? "\(character)=" : "\(character)"), column: column))
                index += pair ? 2 : 1
            } else {
                var end = index
                while end < characters.count, !characters[end].isWhitespace, !symbols.contains(characters[end]) {
                    end += 1
                }
                tokens.append(Token(kind: .word(String(characters[index..<end])), column: column))
                index = end
            }
        }
        tokens.append(Token(kind: .end, column: characters.count + 1))
        return tokens
    }

    mutating func parse() throws(LabelSelector.SyntaxError) -> [LabelSelector.Requirement] {
        if peek.kind == .end { return [] }
        var requirements: [LabelSelector.Requirement] = []
        while true {
            requirements.append(try requirement())
            let next = take()
            switch next.kind {
            case .end:
                return requirements
            case .symbol(","):
                continue
            default:
                throw error(at: next, "expected ',' or the end of the selector, found \(next.shown)")
            }
        }
    }

    private mutating func requirement() throws(LabelSelector.SyntaxError) -> LabelSelector.Requirement {
        var first = take()
        let negated = first.kind == .symbol("!")
        if negated { first = take() }
        guard case .word(let key) = first.kind else {
            throw error(at: first, "expected a label key, found \(first.shown)")
        }
        if let problem = LabelRules.problem(key: key) {
            throw error(at: first, problem)
        }
        if negated {
            if case .symbol(let symbol) = peek.kind, ["=", "==", "!="].contains(symbol) {
                throw error(at: peek, "'!\(key)' takes no value: it matches nodes without the label")
            }
            return LabelSelector.Requirement(key: key, .doesNotExist)
        }
        if peek.kind == .end || peek.kind == .symbol(",") {
            return LabelSelector.Requirement(key: key, .exists)
        }
        let operation = take()
        switch operation.kind {
        case .symbol("="), .symbol("=="):
            return LabelSelector.Requirement(key: key, .equals, [try exactValue(after: operation)])
        case .symbol("!="):
            return LabelSelector.Requirement(key: key, .notEquals, [try exactValue(after: operation)])
        case .word("in"):
            return LabelSelector.Requirement(key: key, .in, try valueSet(after: "in"))
        case .word("notin"):
            return LabelSelector.Requirement(key: key, .notIn, try valueSet(after: "notin"))
        case .symbol("<"), .symbol(">"):
            throw error(at: operation, "\(operation.shown) is not supported: only =, ==, !=, in, notin, KEY and !KEY")
        default:
            throw error(at: operation, "expected an operator (=, ==, !=, in, notin), ',' or the end after '\(key)', found \(operation.shown)")
        }
    }

    /// The value after `=`, `==` or `!=`: empty when nothing follows.
    private mutating func exactValue(after operation: Token) throws(LabelSelector.SyntaxError) -> String {
        if peek.kind == .end || peek.kind == .symbol(",") { return "" }
        let token = take()
        guard case .word(let value) = token.kind else {
            throw error(at: token, "expected a value after \(operation.shown), found \(token.shown)")
        }
        return try checked(value, at: token)
    }

    /// `(a, b)`: each value once, in the order written; an empty place
    /// (`()`, `(a,)`) is the empty value, as in Kubernetes.
    private mutating func valueSet(after keyword: String) throws(LabelSelector.SyntaxError) -> [String] {
        let open = take()
        guard open.kind == .symbol("(") else {
            throw error(at: open, "expected '(' after \(keyword), found \(open.shown)")
        }
        var values: [String] = []
        func add(_ value: String) {
            if !values.contains(value) { values.append(value) }
        }
        while true {
            let token = take()
            switch token.kind {
            case .word(let value):
                add(try checked(value, at: token))
                let next = take()
                if next.kind == .symbol(")") { return values }
                guard next.kind == .symbol(",") else {
                    throw error(at: next, "expected ',' or ')' after \(token.shown), found \(next.shown)")
                }
            case .symbol(","):
                add("")
            case .symbol(")"):
                add("")
                return values
            default:
                throw error(at: token, "expected a value, ',' or ')', found \(token.shown)")
            }
        }
    }

    private func checked(_ value: String, at token: Token) throws(LabelSelector.SyntaxError) -> String {
        if let problem = LabelRules.problem(value: value) { throw error(at: token, problem) }
        return value
    }

    private var peek: Token { tokens[position] }

    private mutating func take() -> Token {
        let token = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    private func error(at token: Token, _ message: String) -> LabelSelector.SyntaxError {
        LabelSelector.SyntaxError(text: text, column: token.column, message: message)
    }
}
