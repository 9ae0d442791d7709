import ArgumentParser

/// How results are printed: tables for people, JSON or YAML for scripts.
enum OutputFormat: String, CaseIterable, Sendable, ExpressibleByArgument {
    /// Aligned columns and key/value lines; failures on stderr.
    case table
    /// The table with more columns (kubectl's `-o wide`): where a listing
    /// has more to say than fits a terminal line, it says it here.
    case wide
    /// One JSON array, an element per node in the order the nodes were given.
    case json
    /// The same elements, one per line, as each node answers.
    case ndjson
    /// The `-o json` document as YAML (keys sorted); a streaming command
    /// writes each element as a YAML document of its own (`---`).
    case yaml

    /// Table or wide: output for people, failures as text on stderr.
    var isForPeople: Bool { self == .table || self == .wide }

    /// The formats that print one document of every node's element, in the
    /// order the nodes were given.
    var isDocument: Bool { self == .json || self == .yaml }

    /// How standard output is written in this format.
    var transcoding: StandardStream.Transcoding { self == .yaml ? .yamlDocuments : .none }
}
