import ArgumentParser

/// How results are printed: a table for people, JSON for scripts.
enum OutputFormat: String, CaseIterable, Sendable, ExpressibleByArgument {
    /// Aligned columns and key/value lines; failures on stderr.
    case table
    /// One JSON array, an element per node in the order the nodes were given.
    case json
    /// The same elements, one per line, as each node answers.
    case ndjson
}
