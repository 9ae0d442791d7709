import Foundation

/// The JSON that `apply`, `status` and `delete` print: one value a line,
/// keys sorted (equal events print equally), slashes as they are.
struct JSONLines {
    let stream: StandardStream
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    init(_ stream: StandardStream) {
        self.stream = stream
    }

    /// Writes `value` and a newline, then flushes: a script reading the
    /// stream sees each line as it happens.
    func write(_ value: some Encodable) {
        guard let line = try? encoder.encode(value) else { return }
        stream.write(String(decoding: line, as: UTF8.self) + "\n")
        stream.flush()
    }
}
