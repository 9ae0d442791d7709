/// Kubernetes' rules for label keys and values, used for selectors and for
/// the labels of configured nodes alike, so that every label a file gives
/// can be selected.
///
/// - A key is a name, optionally after a prefix and `/` (`example.com/zone`).
///   The name: 1-63 characters, letters, digits, `-`, `_`, `.`, starting and
///   ending with a letter or digit. The prefix: a DNS subdomain of at most
///   253 characters (lowercase letters, digits, `-`, `.`; each part starting
///   and ending with a letter or digit).
/// - A value: empty, or like a key's name.
enum LabelRules {
    /// What is wrong with a key, or nil.
    static func problem(key: String) -> String? {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else {
            return "'\(key)' is not a valid label key: at most one '/', between a DNS prefix and the name"
        }
        let name = parts.last.map(String.init) ?? ""
        if parts.count == 2 {
            let prefix = String(parts[0])
            if prefix.isEmpty {
                return "'\(key)' is not a valid label key: the prefix before '/' is empty"
            }
            if prefix.count > 253 {
                return "'\(key)' is not a valid label key: the prefix is longer than 253 characters"
            }
            if !isSubdomain(prefix) {
                return "'\(key)' is not a valid label key: the prefix '\(prefix)' must be a DNS subdomain (lowercase letters, digits, '-', and '.' between parts)"
            }
        }
        if name.isEmpty {
            return "'\(key)' is not a valid label key: the name is empty"
        }
        if let problem = problem(name: name) {
            return "'\(key)' is not a valid label key: \(problem)"
        }
        return nil
    }

    /// What is wrong with a value, or nil.
    static func problem(value: String) -> String? {
        if value.isEmpty { return nil }
        return problem(name: value).map { "'\(value)' is not a valid label value: \($0)" }
    }

    private static func problem(name: String) -> String? {
        if name.count > 63 { return "longer than 63 characters" }
        let characters = Array(name.unicodeScalars)
        guard characters.allSatisfy({ isAlphanumeric($0) || $0 == "-" || $0 == "_" || $0 == "." }) else {
            return "only letters, digits, '-', '_' and '.' are allowed"
        }
        guard let first = characters.first, let last = characters.last, isAlphanumeric(first), isAlphanumeric(last) else {
            return "it must start and end with a letter or digit"
        }
        return nil
    }

    private static func isSubdomain(_ text: String) -> Bool {
        text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { part in
            let characters = Array(part.unicodeScalars)
            guard let first = characters.first, let last = characters.last else { return false }
            return characters.allSatisfy { isLowerAlphanumeric($0) || $0 == "-" }
                && isLowerAlphanumeric(first) && isLowerAlphanumeric(last)
        }
    }

    private static func isAlphanumeric(_ character: Unicode.Scalar) -> Bool {
        isLowerAlphanumeric(character) || ("A"..."Z").contains(character)
    }

    private static func isLowerAlphanumeric(_ character: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(character) || ("0"..."9").contains(character)
    }
}
