/// A notification's `takenAt` as seconds since the epoch, with how finely
/// it was written: the node writes whole seconds (`2026-11-25T15:31:25Z`)
/// and may write fractions (`...25.250Z`); both read, and so do offsets.
/// Parsed by hand: this runs for every notification and needs no calendar.
struct TakenAt: Sendable, Hashable {
    var seconds: Double
    /// 1 for whole seconds, 0.001 for milliseconds, and so on.
    var resolution: Double

    init(seconds: Double, resolution: Double) {
        self.seconds = seconds
        self.resolution = resolution
    }

    init?(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        func digits(_ count: Int) -> Int? {
            guard offset + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[offset..<(offset + count)] {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            offset += count
            return value
        }
        func expect(_ character: Character) -> Bool {
            guard offset < bytes.count, bytes[offset] == character.asciiValue! else { return false }
            offset += 1
            return true
        }
        guard let year = digits(4), expect("-"), let month = digits(2), expect("-"), let day = digits(2),
              expect("T") || expect("t") || expect(" "),
              let hour = digits(2), expect(":"), let minute = digits(2), expect(":"), let second = digits(2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var fraction = 0.0
        var resolution = 1.0
        if expect(".") {
            let start = offset
            while offset < bytes.count, bytes[offset] >= 0x30, bytes[offset] <= 0x39 {
                resolution /= 10
                fraction += Double(bytes[offset] - 0x30) * resolution
                offset += 1
            }
            guard offset > start else { return nil }
        }
        var zone = 0
        if expect("Z") || expect("z") {
            zone = 0
        } else if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") {
            let sign = bytes[offset] == UInt8(ascii: "-") ? -1 : 1
            offset += 1
            guard let hours = digits(2), expect(":"), let minutes = digits(2) else { return nil }
            zone = sign * (hours * 3600 + minutes * 60)
        } else {
            return nil
        }
        guard offset == bytes.count else { return nil }
        let days = Self.daysSinceEpoch(year: year, month: month, day: day)
        self.seconds = Double(days * 86_400 + hour * 3600 + minute * 60 + second - zone) + fraction
        self.resolution = resolution
    }

    /// Howard Hinnant's days_from_civil: the proleptic Gregorian calendar.
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The time between two snapshots. `takenAt` is the truth, to its
    /// resolution; within that, the time between their arrivals here
    /// (`received`) refines it, so that whole-second stamps still give a
    /// rate that does not jump between 0.5x and 2x.
    static func elapsed(from earlier: TakenAt, to later: TakenAt, received: Double?) -> Double {
        let stamped = later.seconds - earlier.seconds
        let slack = max(earlier.resolution, later.resolution)
        guard let received else { return stamped }
        return min(max(received, stamped - slack), stamped + slack)
    }
}
