import ArgumentParser

/// "did you mean" for a command that is not one: ArgumentParser says
/// `Unexpected argument 'lod'`; the words before it that name commands say
/// which command's subcommands it was meant to be.
enum CommandSuggestion {
    /// `unknown command 'lod' for 'bpfleet probe'; did you mean 'load'?`,
    /// or nil when the message is about something else or nothing is close.
    static func hint(for message: String, arguments: [String]) -> String? {
        guard let word = unexpectedWord(in: message), let position = arguments.firstIndex(of: word) else { return nil }
        var command: any ParsableCommand.Type = BpfleetCommand.self
        var path = ["bpfleet"]
        for argument in arguments[..<position] where !argument.hasPrefix("-") {
            guard let next = command.configuration.subcommands.first(where: { $0._commandName == argument }) else { continue }
            command = next
            path.append(argument)
        }
        let names = command.configuration.subcommands.map { $0._commandName }
        guard !names.isEmpty, let close = KeySuggestion.closest(to: word, among: names) else { return nil }
        return "unknown command '\(word)' for '\(path.joined(separator: " "))'; did you mean '\(close)'?"
    }

    /// The first word of "Unexpected argument 'X'" or "N unexpected
    /// arguments: 'X', 'Y'".
    static func unexpectedWord(in message: String) -> String? {
        guard let range = message.range(of: "nexpected argument") else { return nil }
        let rest = message[range.upperBound...]
        guard let open = rest.firstIndex(of: "'") else { return nil }
        let after = rest[rest.index(after: open)...]
        guard let close = after.firstIndex(of: "'") else { return nil }
        return String(after[..<close])
    }
}
