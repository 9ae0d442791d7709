import ArgumentParser

/// `NAME=VALUE` from a repeated option such as `--global` or `--label`.
struct Assignment: Sendable, Hashable {
    var name: String
    var value: String

    init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    init(parsing text: String) throws {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw ValidationError("expected NAME=VALUE, got '\(text)'")
        }
        self.name = String(text[..<equals])
        self.value = String(text[text.index(after: equals)...])
    }

    /// The assignments as a dictionary; naming one twice is a mistake.
    static func dictionary<Value>(_ assignments: [Assignment], option: String,
                                  _ transform: (String) throws -> Value) throws -> [String: Value] {
        var result: [String: Value] = [:]
        for assignment in assignments {
            guard result.updateValue(try transform(assignment.value), forKey: assignment.name) == nil else {
                throw ValidationError("\(option) \(assignment.name) is given twice")
            }
        }
        return result
    }
}
