@testable import BpfleetClient
import BpfleetShared
import Foundation
import NIOCore
import Testing

private func params(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

private func text(_ buffer: ByteBuffer) -> String {
    String(decoding: buffer.readableBytesView, as: UTF8.self)
}

@Suite("durations on the command line")
struct DurationTextTests {
    @Test("as an operator writes them", arguments: [
        ("1s", Duration.seconds(1)),
        ("250ms", .milliseconds(250)),
        ("2m", .seconds(120)),
        ("1h", .seconds(3600)),
        ("1.5s", .milliseconds(1500)),
        ("0.1s", .milliseconds(100)),
        ("3", .seconds(3)),
        (" 10s ", .seconds(10)),
    ])
    func parses(text: String, expected: Duration) throws {
        #expect(try DurationText.parse(text) == expected)
    }

    @Test("anything else is refused, saying how to write one", arguments: ["", "s", "ms", "1x", "-1s", "+1s", "1e3s", "1..5s", ".", "inf", "nans", "1 s 2"])
    func refuses(text: String) {
        #expect(throws: DurationText.Invalid.self) { try DurationText.parse(text) }
        #expect(DurationText.Invalid(text: text).description.contains("250ms, 1s"))
    }

    @Test("whole milliseconds for the wire, rounded up")
    func milliseconds() throws {
        #expect(DurationText.milliseconds(.seconds(1)) == 1000)
        #expect(DurationText.milliseconds(.milliseconds(250)) == 250)
        #expect(DurationText.milliseconds(try DurationText.parse("100.5ms")) == 101)
    }

    // asyncParse: these commands' probe and map arguments complete from
    // the nodes, asynchronously, which a synchronous parse refuses.
    @Test("map watch: the interval is at least 100ms; count and duration are checked")
    func watchOptions() async throws {
        let command = try await MapWatchCommand.asyncParse(["exec", "counts", "--interval", "250ms", "--delta", "--format", "hex", "--count", "3", "--duration", "2m"])
        #expect(try command.intervalMilliseconds() == 250)
        #expect(command.delta)
        #expect(command.selection.valueFormat == .hex)
        #expect(command.limits.count == 3)
        #expect(try command.limits.parsedDuration() == .seconds(120))
        #expect(try await MapWatchCommand.asyncParse(["exec", "counts"]).intervalMilliseconds() == 1000)
        await #expect(throws: (any Error).self) { try await MapWatchCommand.asyncParse(["exec", "counts", "--interval", "50ms"]) }
        await #expect(throws: (any Error).self) { try await MapWatchCommand.asyncParse(["exec", "counts", "--interval", "soon"]) }
        await #expect(throws: (any Error).self) { try await MapWatchCommand.asyncParse(["exec", "counts", "--count", "0"]) }
        await #expect(throws: (any Error).self) { try await MapWatchCommand.asyncParse(["exec", "counts", "--duration", "0s"]) }
        await #expect(throws: (any Error).self) { try await EventsTailCommand.asyncParse(["exec", "events", "--duration", "later"]) }
        let tail = try await EventsTailCommand.asyncParse(["exec", "events", "--record-type", "struct exec_event"])
        #expect(tail.recordType == "struct exec_event")
    }
}

@Suite("takenAt")
struct TakenAtTests {
    @Test("whole seconds, fractions and offsets")
    func parses() throws {
        let whole = try #require(TakenAt("2025-01-02T03:04:05Z"))
        #expect(whole.seconds == 1_735_787_045)
        #expect(whole.resolution == 1)
        let fraction = try #require(TakenAt("2025-01-02T03:04:05.250Z"))
        #expect(fraction.seconds == 1_735_787_045.25)
        #expect(abs(fraction.resolution - 0.001) < 1e-12)
        #expect(TakenAt("2025-01-02T04:04:05+01:00")?.seconds == 1_735_787_045)
        #expect(TakenAt("1970-01-01T00:00:00Z")?.seconds == 0)
        #expect(TakenAt("2024-02-29T00:00:00Z")?.seconds == 1_709_164_800)
        for bad in ["", "2025-01-02", "2025-01-02T03:04:05", "2025-13-02T03:04:05Z", "2025-01-02T03:04:05.Z", "2025-01-02T03:04:05Zx"] {
            #expect(TakenAt(bad) == nil, "\(bad)")
        }
    }

    @Test("whole-second stamps are refined by arrival times, within their resolution")
    func elapsed() throws {
        let a = try #require(TakenAt("2025-01-02T03:04:05Z"))
        let b = try #require(TakenAt("2025-01-02T03:04:06Z"))
        // Arrived 0.98 s apart: inside (0, 2), so believed.
        #expect(TakenAt.elapsed(from: a, to: b, received: 0.98) == 0.98)
        // Arrived 5 s apart (a stall here): the stamps say at most 2.
        #expect(TakenAt.elapsed(from: a, to: b, received: 5) == 2)
        #expect(TakenAt.elapsed(from: a, to: b, received: nil) == 1)
        // Millisecond stamps leave almost no room.
        let c = try #require(TakenAt("2025-01-02T03:04:05.000Z"))
        let d = try #require(TakenAt("2025-01-02T03:04:05.500Z"))
        #expect(abs(TakenAt.elapsed(from: c, to: d, received: 0.9) - 0.501) < 1e-9)
    }
}

@Suite("the number of a map value")
struct EntryNumberTests {
    @Test("numbers, per-CPU lists, structs' first numeric field", arguments: [
        ("42", 42.0),
        ("-7", -7),
        ("18446744073709551615", Double(UInt64.max)),
        ("1.5", 1.5),
        ("[1,2,3,4]", 10),
        (#"{"comm":"bash","count":9,"bytes":100}"#, 9),
        (#"{"name":"x","inner":{"label":"y","n":4},"m":5}"#, 4),
        (#"[{"c":1},{"c":2}]"#, 3),
    ])
    func number(text: String, expected: Double) throws {
        #expect(try #require(EntryNumber(json: text)).double == expected)
    }

    @Test("no number in strings, hex, booleans, null or structs without one", arguments: [
        #""bash""#, #""0a0b0c""#, "true", "null", #"{"comm":"bash"}"#, "[]", #"["a",1]"#,
    ])
    func none(text: String) {
        #expect(EntryNumber(json: text) == nil)
    }

    @Test("differences are exact for 64-bit counters")
    func differences() {
        #expect(EntryNumber.difference(.unsigned(UInt64.max), .unsigned(UInt64.max - 3)) == 3)
        #expect(EntryNumber.difference(.unsigned(5), .unsigned(8)) == -3)
        #expect(EntryNumber.difference(.signed(-5), .unsigned(5)) == -10)
        #expect(EntryNumber.difference(.unsigned(1 << 60 + 1), .unsigned(1 << 60)) == 1)
    }
}

@Suite("a watched map")
struct WatchedMapTests {
    @Test("rates per second from consecutive snapshots, sorted by value; a gap is counted")
    func ratesAndGaps() throws {
        var map = WatchedMap()
        try map.apply(params(#"{"subscription":1,"seq":1,"takenAt":"2025-01-02T03:04:05Z","entries":[{"key":1,"value":10},{"key":2,"value":100},{"key":3,"value":"x"}]}"#), receivedAt: 10)
        #expect(map.rows() == [
            .init(key: "2", value: "100", rate: nil),
            .init(key: "1", value: "10", rate: nil),
            .init(key: "3", value: #""x""#, rate: nil),
        ])
        try map.apply(params(#"{"subscription":1,"seq":2,"takenAt":"2025-01-02T03:04:06Z","entries":[{"key":1,"value":15},{"key":2,"value":130},{"key":3,"value":"x"}]}"#), receivedAt: 11)
        #expect(map.rows() == [
            .init(key: "2", value: "130", rate: 30),
            .init(key: "1", value: "15", rate: 5),
            .init(key: "3", value: #""x""#, rate: nil),
        ])
        #expect(map.lastGap == 0)
        // seq 3 skipped; 2 s between the snapshots.
        try map.apply(params(#"{"subscription":1,"seq":4,"takenAt":"2025-01-02T03:04:08Z","entries":[{"key":1,"value":35},{"key":2,"value":150}]}"#), receivedAt: 13)
        #expect(map.rows() == [
            .init(key: "2", value: "150", rate: 10),
            .init(key: "1", value: "35", rate: 10),
        ])
        #expect(map.seq == 4)
        #expect(map.lastGap == 1)
        #expect(map.skipped == 1)
        #expect(map.takenAt == "2025-01-02T03:04:08Z")
        try map.apply(params(#"{"subscription":1,"seq":5,"takenAt":"2025-01-02T03:04:09Z","entries":[]}"#), receivedAt: 14)
        #expect(map.lastGap == 0)
        #expect(map.skipped == 1)
        #expect(map.rows().isEmpty)
    }

    @Test("a rate comes from the snapshots' own times, not only from when they arrived")
    func rateUsesTakenAt() throws {
        var map = WatchedMap()
        try map.apply(params(#"{"seq":1,"takenAt":"2025-01-02T03:04:05.000Z","entries":[{"key":"a","value":0}]}"#), receivedAt: 0)
        // Arrived 3 s later (the client was busy), taken 0.5 s later.
        try map.apply(params(#"{"seq":2,"takenAt":"2025-01-02T03:04:05.500Z","entries":[{"key":"a","value":100}]}"#), receivedAt: 3)
        let rate = try #require(map.rows().first?.rate)
        #expect(abs(rate - 100 / 0.501) < 1e-6)
    }

    @Test("struct values sort by their first numeric field, counters of 64 bits rate exactly")
    func structsAndBigCounters() throws {
        var map = WatchedMap()
        try map.apply(params(#"{"seq":1,"takenAt":"2025-01-02T03:04:05Z","entries":[{"key":{"pid":1},"value":{"comm":"a","n":18446744073709551000}},{"key":{"pid":2},"value":{"comm":"b","n":5}},{"key":{"pid":3},"value":{"comm":"c"}}]}"#), receivedAt: 0)
        try map.apply(params(#"{"seq":2,"takenAt":"2025-01-02T03:04:06Z","entries":[{"key":{"pid":1},"value":{"comm":"a","n":18446744073709551615}},{"key":{"pid":2},"value":{"comm":"b","n":5}},{"key":{"pid":3},"value":{"comm":"c"}}]}"#), receivedAt: 1)
        let rows = map.rows()
        #expect(rows.map(\.key) == [#"{"pid":1}"#, #"{"pid":2}"#, #"{"pid":3}"#])
        #expect(rows.map(\.rate) == [615, 0, nil])
    }

    @Test("ties and values without a number go by key, numerically when keys are numbers")
    func keyOrder() throws {
        var map = WatchedMap()
        try map.apply(params(#"{"seq":1,"takenAt":"2025-01-02T03:04:05Z","entries":[{"key":10,"value":1},{"key":9,"value":1},{"key":"b","value":"x"},{"key":"a","value":"y"},{"key":100,"value":2}]}"#), receivedAt: 0)
        #expect(map.rows().map(\.key) == ["100", "9", "10", #""a""#, #""b""#])
    }

    @Test("deltas update the entries")
    func deltas() throws {
        var map = WatchedMap()
        try map.apply(params(#"{"seq":1,"takenAt":"2025-01-02T03:04:05Z","set":[{"key":1,"value":10},{"key":2,"value":20}],"removed":[]}"#), receivedAt: 0)
        try map.apply(params(#"{"seq":2,"takenAt":"2025-01-02T03:04:06Z","set":[{"key":2,"value":25},{"key":3,"value":30}],"removed":[1]}"#), receivedAt: 1)
        #expect(map.entries == ["2": "25", "3": "30"])
        #expect(map.rows().map(\.rate) == [nil, 5])
        #expect(throws: WatchedMap.Malformed.self) { try map.apply(params(#"{"seq":3}"#), receivedAt: 2) }
    }
}

@Suite("the live table")
struct LiveFrameTests {
    private func counts() throws -> WatchedMap {
        var map = WatchedMap()
        try map.apply(params(#"{"seq":1,"takenAt":"2025-01-02T03:04:05Z","entries":[{"key":1,"value":10},{"key":2,"value":100},{"key":3,"value":"x"}]}"#), receivedAt: 0)
        try map.apply(params(#"{"seq":3,"takenAt":"2025-01-02T03:04:07Z","entries":[{"key":1,"value":14},{"key":2,"value":1100},{"key":3,"value":"x"}]}"#), receivedAt: 2)
        return map
    }

    @Test("a section per node: heading with seq, time and gap; rows largest first with rates")
    func frame() throws {
        let lines = LiveFrame.lines(title: "map watch exec/counts", sections: [
            .init(node: "web-1", map: "exec/counts", state: try counts(), note: nil),
            .init(node: "web-2", map: "exec/counts", state: WatchedMap(), note: "connecting"),
            .init(node: "web-3", map: "exec/counts", state: WatchedMap(), note: nil),
        ], width: 100, height: 40)
        #expect(lines == [
            "map watch exec/counts",
            "",
            "web-1  exec/counts  seq 3  2025-01-02T03:04:07Z  3 entries  gap: 1 skipped",
            "KEY  VALUE  RATE/s",
            "2    1100      500",
            "1    14        2.0",
            #"3    "x"         -"#,
            "",
            "web-2  exec/counts  connecting",
            "",
            "web-3  exec/counts  waiting for the first snapshot",
        ])
    }

    @Test("cut to the terminal: rows beyond a section's share are counted, long lines clipped")
    func cut() throws {
        let lines = LiveFrame.lines(title: "t", sections: [
            .init(node: "n", map: "m", state: try counts(), note: nil),
        ], width: 20, height: 6)
        #expect(lines == [
            "t",
            "",
            "n  m  seq 3  2025-0…",
            "KEY       VALUE  RA…",
            "… 3 more",
        ])
    }

    @Test("rates read at a glance")
    func rates() {
        #expect(LiveFrame.rate(nil) == "-")
        #expect(LiveFrame.rate(0) == "0")
        #expect(LiveFrame.rate(1234.4) == "1234")
        #expect(LiveFrame.rate(-12.34) == "-12.3")
        #expect(LiveFrame.rate(0.25) == "0.25")
    }
}

@Suite("a subscription's buffer")
struct SubscriptionBufferTests {
    private func notification(_ method: String, _ seq: Int, _ params: String) -> SubscriptionNotification {
        SubscriptionNotification(method: method, subscription: 1, seq: seq, params: ByteBuffer(string: params))
    }

    @Test("merging deltas: later values win, removals and re-sets cancel out")
    func deltaMerge() throws {
        let merged = try #require(DeltaMerge.merge(
            ByteBuffer(string: #"{"subscription":1,"seq":1,"takenAt":"2025-01-02T03:04:05Z","set":[{"key":1,"value":1},{"key":2,"value":2},{"key":3,"value":3}],"removed":[7,8]}"#),
            into: ByteBuffer(string: #"{"subscription":1,"seq":2,"takenAt":"2025-01-02T03:04:06Z","set":[{"key":2,"value":22},{"key":8,"value":8}],"removed":[3,9]}"#)))
        #expect(text(merged) == #"{"subscription":1,"seq":2,"takenAt":"2025-01-02T03:04:06Z","set":[{"key":1,"value":1},{"key":2,"value":22},{"key":8,"value":8}],"removed":[7,3,9]}"#)
        // Full snapshots are not merged: the later one holds everything.
        #expect(DeltaMerge.merge(ByteBuffer(string: #"{"entries":[]}"#), into: ByteBuffer(string: #"{"entries":[]}"#)) == nil)
    }

    @Test("a dropped events notification's records and lost are carried to the next")
    func eventsAbsorbed() {
        let first = notification("subscription.events", 1, #"{"subscription":1,"seq":1,"records":[1,2,3],"lost":2}"#)
        var second = notification("subscription.events", 2, #"{"subscription":1,"seq":2,"records":[4],"lost":1}"#)
        second = SubscriptionBuffer.absorb(first, into: second)
        #expect(second.droppedBefore == 1)
        #expect(second.recordsDroppedBefore == 5)
        let third = SubscriptionBuffer.absorb(second, into: notification("subscription.events", 3, #"{"records":[],"lost":0}"#))
        #expect(third.droppedBefore == 2)
        #expect(third.recordsDroppedBefore == 5 + 1 + 1)
    }
}
