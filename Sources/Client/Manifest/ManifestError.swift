/// A manifest that cannot be applied, with the place to fix: the file, the
/// line and column of the offending YAML node, and the field's path in the
/// manifest (`rollout.maxFailures`, `attach[0].target.category`).
///
/// The whole file is refused on its first error, before any node is asked.
public struct ManifestError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    /// 1-based; nil when the problem is not at a place in the file (it
    /// cannot be read at all).
    public var line: Int?
    /// 1-based, counted in Unicode scalars as libyaml counts them.
    public var column: Int?
    /// The field's path: keys joined by `.`, list positions 0-based in
    /// brackets (`attach[0]`, as the server names them). Nil when the
    /// problem is the file as a whole (YAML that does not parse).
    public var field: String?
    public var message: String

    public init(file: String, line: Int?, column: Int?, field: String?, _ message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    /// `probe.yaml:12:7: rollout.batch: 0% is not a batch size (a count of at least 1, or 1% to 100%)`
    public var description: String {
        var text = file
        if let line {
            text += ":\(line)"
            if let column { text += ":\(column)" }
        }
        text += ": "
        if let field { text += "\(field): " }
        return text + message
    }
}
