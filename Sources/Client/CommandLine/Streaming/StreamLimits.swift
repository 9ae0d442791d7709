import ArgumentParser

/// `--count` and `--duration`: when a streaming command stops by itself
/// (for scripts and tests; without them it runs until Ctrl-C or until every
/// node's subscription has ended).
struct StreamLimits: ParsableArguments {
    @Option(help: ArgumentHelp("Stop after this many notifications (map watch) or records (events tail) from each node.", valueName: "n"))
    var count: Int?

    @Option(help: ArgumentHelp("Stop after this long: 250ms, 10s, 2m, 1h.", valueName: "duration"))
    var duration: String?

    func validate() throws {
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        _ = try parsedDuration()
    }

    func parsedDuration() throws -> Duration? {
        guard let duration else { return nil }
        let parsed: Duration
        do {
            parsed = try DurationText.parse(duration)
        } catch {
            throw ValidationError("--duration: \(error)")
        }
        guard parsed > .zero else { throw ValidationError("--duration must be longer than 0") }
        return parsed
    }
}
