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

    /// bash's words put back together where bash split them. bash breaks
    /// its completion words at the characters of COMP_WORDBREAKS, `:` and
    /// `=` among them, so `-n unix:/run/x.sock` reaches the completion as
    /// `-n`, `unix`, `:`, `/run/x.sock` and `--node=a` as `--node`, `=`,
    /// `a`. A lone `:` or `=` is glued to the words on either side (no
    /// bpfleet word is a lone `:` or `=`), except the word under the
    /// cursor, whose index is moved to match.
    static func rejoined(_ words: [String], completing index: Int) -> (words: [String], index: Int) {
        var joined: [String] = []
        var cursor = index
        var glueNext = false
        for (position, word) in words.enumerated() {
            if position == index {
                cursor = joined.count
                joined.append(word)
                glueNext = false
                continue
            }
            let isBreak = word == ":" || word == "="
            let lastIsCursor = position > index && joined.count - 1 == cursor
            if !joined.isEmpty, !lastIsCursor, isBreak || glueNext {
                joined[joined.count - 1] += word
            } else {
                joined.append(word)
            }
            glueNext = isBreak
        }
        if index >= words.count { cursor = joined.count + (index - words.count) }
        return (joined, cursor)
    }
}
