import ArgumentParser

/// The words of a command line being completed, read the way the command
/// itself would read them: ArgumentParser parses the global options
/// (-n, --selector, --config, TLS files, timeouts) wherever they stand,
/// and leaves every other word (command names, the command's own options
/// and arguments) in `rest`, in order.
struct CompletionWords: ParsableCommand {
    @OptionGroup var options: GlobalOptions

    @Argument(parsing: .allUnrecognized)
    var rest: [String] = []

    /// The line `words` (the shell's words, the command's name first) as
    /// typed so far, without the word under the cursor, which is
    /// unfinished; nil when the words do not parse (a half-typed option
    /// value, --cert without --key), which completes nothing.
    static func typed(_ words: [String], completing index: Int) -> CompletionWords? {
        let others = words.indices.dropFirst().filter { $0 != index }.map { unquoted(words[$0]) }
        return try? parse(others)
    }

    /// The words before the one under the cursor that are not global
    /// options: where the probe of a map argument is found.
    static func before(_ words: [String], completing index: Int) -> [String] {
        typed(Array(words.prefix(max(index, 0))), completing: index)?.rest ?? []
    }

    /// A word without the quotes around it: the shell hands words over as
    /// typed (`-n 'unix:/run/x.sock'`). Only a whole word in one pair of
    /// quotes is unquoted; anything subtler is taken as it stands.
    static func unquoted(_ word: String) -> String {
        for quote in ["'", "\""] where word.count >= 2 && word.hasPrefix(quote) && word.hasSuffix(quote) {
            return String(word.dropFirst().dropLast())
        }
        return word
    }
}
