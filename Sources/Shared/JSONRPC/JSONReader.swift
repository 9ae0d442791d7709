/// Reads one JSON-RPC message (a line) into `JSONValue` in a single pass
/// over its bytes, without recursion: every byte is looked at a bounded
/// number of times, so the cost of reading is linear in the line's length
/// whatever its shape (docs/hostile-input.md).
///
/// It is strict RFC 8259: no trailing commas, no leading zeros, no control
/// characters or invalid UTF-8 in strings, no text after the value. Of a
/// key given twice in one object the last wins. Nesting deeper than
/// `maxDepth` stops the read at once.
///
/// Two things are valid JSON but cannot be kept as a `JSONValue`: a number
/// out of Double's range (`1e400`) and a `\u` escape naming half of a
/// surrogate pair (`"\ud800"`). They are not parse errors: the first such
/// *defect* of each request is kept with its path, for an answer naming the
/// field. The number text of each request's `id` is kept exactly, so any
/// JSON number is echoed as it was sent.
public enum JSONReader {
    /// The deepest nesting of arrays and objects a line may hold, counted
    /// from its outermost bracket (a batch's own array is one level).
    public static let maxDepth = 64
    /// The longest number text converted to a value; a longer one (in
    /// range or not) is a "number out of range" defect. Bounds the cost of
    /// converting one number, whatever its digits.
    public static let maxNumberLength = 1024
    /// The most values (scalars, arrays and objects) one request may hold:
    /// its tree then takes at most about 24 MiB, less than the 64 MiB line
    /// it could come from. A batch's members count each on their own.
    public static let maxValues = 1 << 20

    /// One step on the path from a request object to one of its values.
    public enum PathStep: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    /// Valid JSON that no `JSONValue` can hold faithfully; its place in the
    /// tree reads as `null` (a number) or holds U+FFFD (a surrogate).
    public struct Defect: Sendable, Hashable, CustomStringConvertible {
        public enum Kind: Sendable, Hashable {
            /// The number's text.
            case numberOutOfRange(String)
            /// The escaped UTF-16 code unit that has no partner.
            case loneSurrogate(UInt16)
        }

        public var kind: Kind
        /// From the request object (or batch member) down to the value.
        public var path: [PathStep]

        public init(kind: Kind, path: [PathStep]) {
            self.kind = kind
            self.path = path
        }

        /// The path as error replies name fields: `params.entries[3].key`.
        public var field: String {
            path.reduce(into: "") { text, step in
                switch step {
                case .key(let key): text += text.isEmpty ? key : "." + key
                case .index(let index): text += "[\(index)]"
                }
            }
        }

        public var problem: String {
            switch kind {
            case .numberOutOfRange: "number out of range"
            case .loneSurrogate(let unit): "string holds a lone surrogate (\\u\(hex4(unit)))"
            }
        }

        public var description: String { field.isEmpty ? problem : "\(field): \(problem)" }
    }

    /// Why a line is not JSON, or is nested too deep to read.
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public enum Kind: Sendable, Hashable {
            case syntax
            case tooDeep
            /// A request with more than `maxValues` values.
            case tooManyValues
        }

        public var kind: Kind
        /// The byte the reader stopped at.
        public var offset: Int
        public var message: String

        public var description: String { "\(message) at byte \(offset)" }
    }

    /// One request object as read (or whatever stood in its place).
    public struct Member: Sendable, Hashable {
        public var value: JSONValue
        /// The exact text of the object's `id` member when it is a number.
        public var idText: String?
        /// The first defect anywhere in the member.
        public var defect: Defect?

        public init(value: JSONValue, idText: String? = nil, defect: Defect? = nil) {
            self.value = value
            self.idText = idText
            self.defect = defect
        }
    }

    /// A line: one request, or a batch (a top-level array).
    public enum Message: Sendable, Hashable {
        case single(Member)
        /// How many members the batch has, and the members themselves when
        /// they are no more than the limit the read was given (none kept
        /// otherwise: the batch is refused whole).
        case batch(count: Int, members: [Member])
    }

    /// Reads one line. A batch of more than `maxBatchMembers` members is
    /// still read to its end (it must be JSON to be refused as a batch),
    /// but none of its members is kept.
    public static func read(_ bytes: UnsafeRawBufferPointer, maxBatchMembers: Int = .max) throws(Failure) -> Message {
        var parser = Parser(bytes: bytes, maxBatchMembers: maxBatchMembers)
        return try parser.message()
    }

    /// Reads JSON text (tests, tools).
    public static func read(_ text: String, maxBatchMembers: Int = .max) throws(Failure) -> Message {
        let result = Array(text.utf8).withUnsafeBytes { bytes -> Result<Message, Failure> in
            do throws(Failure) {
                return .success(try read(bytes, maxBatchMembers: maxBatchMembers))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

/// Four lowercase hex digits.
private func hex4(_ unit: UInt16) -> String {
    let digits = String(unit, radix: 16)
    return String(repeating: "0", count: 4 - digits.count) + digits
}

private enum Byte {
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let comma = UInt8(ascii: ",")
    static let colon = UInt8(ascii: ":")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")
    static let minus = UInt8(ascii: "-")
    static let plus = UInt8(ascii: "+")
    static let dot = UInt8(ascii: ".")
    static let zero = UInt8(ascii: "0")
    static let nine = UInt8(ascii: "9")
}

/// The reader's state: the containers open around the current position,
/// innermost last, and what is kept of the request being read.
private struct Parser {
    typealias Failure = JSONReader.Failure

    /// An array or object being filled.
    struct Frame {
        var isObject: Bool
        var elements: [JSONValue] = []
        var fields: [String: JSONValue] = [:]
        /// The key of the member being read (objects).
        var key = ""
        /// Values completed so far: the current element's index (arrays).
        var count = 0
    }

    /// What is kept of one request besides its value.
    struct Request {
        var idText: String?
        var defect: JSONReader.Defect?
        /// Values opened so far.
        var values = 0
    }

    let bytes: UnsafeRawBufferPointer
    let maxBatchMembers: Int
    var offset = 0
    var stack: [Frame] = []
    /// The line is a batch: each element of the root array is a request.
    var isBatch = false
    var request = Request()
    var batch: [JSONReader.Member] = []
    var batchCount = 0
    /// The first lone surrogate of the string just read.
    var loneSurrogate: UInt16?

    init(bytes: UnsafeRawBufferPointer, maxBatchMembers: Int) {
        self.bytes = bytes
        self.maxBatchMembers = maxBatchMembers
    }

    var peek: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    /// Where a request object's frame sits in the stack.
    var requestDepth: Int { isBatch ? 1 : 0 }

    mutating func message() throws(Failure) -> JSONReader.Message {
        skipWhitespace()
        isBatch = peek == Byte.openBracket
        let root = try readRoot()
        skipWhitespace()
        guard offset == bytes.count else { throw syntax("unexpected text after the JSON value") }
        if isBatch {
            return .batch(count: batchCount, members: batchCount <= maxBatchMembers ? batch : [])
        }
        return .single(JSONReader.Member(value: root, idText: request.idText, defect: request.defect))
    }

    /// The loop that replaces recursion: open a value; when one completes,
    /// add it to the innermost container, then read a separator or that
    /// container's end.
    mutating func readRoot() throws(Failure) -> JSONValue {
        var completed = try openValue()
        while true {
            guard let value = completed else {
                // A container opened: read its first value.
                completed = try openValue()
                continue
            }
            guard !stack.isEmpty else { return value }
            add(value)
            skipWhitespace()
            let isObject = stack[stack.count - 1].isObject
            switch peek {
            case Byte.comma?:
                offset += 1
                if isObject { try readKey() }
                completed = try openValue()
            case (isObject ? Byte.closeBrace : Byte.closeBracket)?:
                offset += 1
                completed = close()
            case nil:
                throw syntax("unexpected end of input")
            default:
                throw syntax(isObject ? "expected ',' or '}'" : "expected ',' or ']'")
            }
        }
    }

    /// Reads a scalar, or an empty container, and returns it; or opens a
    /// container and returns nil.
    mutating func openValue() throws(Failure) -> JSONValue? {
        skipWhitespace()
        if isRequestID { request.idText = nil }  // a later "id" wins
        guard let byte = peek else { throw syntax("unexpected end of input") }
        request.values += 1
        guard request.values <= JSONReader.maxValues else {
            throw Failure(kind: .tooManyValues, offset: offset,
                          message: "a request holds more than the limit of \(JSONReader.maxValues) values")
        }
        switch byte {
        case Byte.openBrace, Byte.openBracket:
            guard stack.count < JSONReader.maxDepth else {
                throw Failure(kind: .tooDeep, offset: offset,
                              message: "nested deeper than the limit of \(JSONReader.maxDepth) levels")
            }
            offset += 1
            skipWhitespace()
            let isObject = byte == Byte.openBrace
            if peek == (isObject ? Byte.closeBrace : Byte.closeBracket) {
                offset += 1
                return isObject ? .object([:]) : .array([])
            }
            stack.append(Frame(isObject: isObject))
            if isObject { try readKey() }
            return nil
        case Byte.quote:
            let text = try readString()
            if let unit = loneSurrogate { noteDefect(.loneSurrogate(unit)) }
            return .string(text)
        case UInt8(ascii: "t"):
            try expectWord("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectWord("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectWord("null")
            return .null
        case Byte.minus, Byte.zero...Byte.nine:
            return try readNumber()
        default:
            throw syntax("unexpected \(describe(byte))")
        }
    }

    /// Adds a completed value to the innermost container; a batch's member
    /// is complete once added to the root array.
    mutating func add(_ value: JSONValue) {
        let last = stack.count - 1
        if stack[last].isObject {
            stack[last].fields[stack[last].key] = value
        } else if !(isBatch && last == 0) {
            stack[last].elements.append(value)
        } else {
            if batchCount < maxBatchMembers {
                batch.append(JSONReader.Member(value: value, idText: request.idText, defect: request.defect))
            }
            batchCount += 1
            request = Request()
        }
        stack[last].count += 1
    }

    /// Ends the innermost container and returns it as a value.
    mutating func close() -> JSONValue? {
        guard let frame = stack.popLast() else { return nil }
        if frame.isObject { return .object(frame.fields) }
        if isBatch && stack.isEmpty { return .array([]) }  // the members went to `batch`
        return .array(frame.elements)
    }

    /// Reads `"key" :` into the innermost object's frame.
    mutating func readKey() throws(Failure) {
        skipWhitespace()
        guard peek == Byte.quote else { throw syntax("expected a string key") }
        let key = try readString()
        stack[stack.count - 1].key = key
        if let unit = loneSurrogate { noteDefect(.loneSurrogate(unit)) }
        skipWhitespace()
        guard peek == Byte.colon else { throw syntax("expected ':'") }
        offset += 1
    }

    /// Whether the value being read is a request object's `id` member.
    var isRequestID: Bool {
        stack.count == requestDepth + 1 && stack[requestDepth].isObject && stack[requestDepth].key == "id"
    }

    /// Keeps the first defect of the current request, with its path.
    mutating func noteDefect(_ kind: JSONReader.Defect.Kind) {
        guard request.defect == nil else { return }
        var path: [JSONReader.PathStep] = []
        for frame in stack.dropFirst(requestDepth) {
            path.append(frame.isObject ? .key(frame.key) : .index(frame.count))
        }
        request.defect = JSONReader.Defect(kind: kind, path: path)
    }

    // MARK: Scalars

    mutating func expectWord(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - offset >= count else { throw syntax("unexpected end of input") }
        for index in 0..<count where bytes[offset + index] != word.utf8Start[index] {
            offset += index
            throw syntax("unexpected \(describe(bytes[offset]))")
        }
        offset += count
    }

    /// A number per RFC 8259's grammar: an integer that fits Int64 or
    /// UInt64 stays one; anything else is a Double if it is finite.
    mutating func readNumber() throws(Failure) -> JSONValue {
        let start = offset
        if peek == Byte.minus { offset += 1 }
        guard let first = peek, first >= Byte.zero, first <= Byte.nine else { throw syntax("expected a digit") }
        offset += 1
        if first == Byte.zero, let next = peek, next >= Byte.zero, next <= Byte.nine {
            throw syntax("a number must not have leading zeros")
        }
        skipDigits()
        var isInteger = true
        if peek == Byte.dot {
            isInteger = false
            offset += 1
            try requireDigits()
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            isInteger = false
            offset += 1
            if peek == Byte.plus || peek == Byte.minus { offset += 1 }
            try requireDigits()
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
        if isRequestID {
            request.idText = text
        }
        guard text.utf8.count <= JSONReader.maxNumberLength else {
            if !isRequestID { noteDefect(.numberOutOfRange(text)) }
            return .null
        }
        if isInteger {
            if let value = Int64(text) { return .int(value) }
            if bytes[start] != Byte.minus, let value = UInt64(text) { return .uint(value) }
        }
        guard let value = Double(text), value.isFinite else {
            if !isRequestID { noteDefect(.numberOutOfRange(text)) }
            return .null
        }
        return .double(value)
    }

    mutating func skipDigits() {
        while let byte = peek, byte >= Byte.zero, byte <= Byte.nine { offset += 1 }
    }

    mutating func requireDigits() throws(Failure) {
        guard let byte = peek, byte >= Byte.zero, byte <= Byte.nine else { throw syntax("expected a digit") }
        skipDigits()
    }

    // MARK: Strings

    /// Reads a string from its opening quote; sets `loneSurrogate` to the
    /// first unpaired surrogate escape in it (replaced by U+FFFD).
    mutating func readString() throws(Failure) -> String {
        loneSurrogate = nil
        offset += 1
        let start = offset
        // Most strings have no escapes: validated, then decoded in place.
        while let byte = peek {
            if byte == Byte.quote {
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
                offset += 1
                return text
            }
            if byte == Byte.backslash { break }
            try skipCharacter(byte)
        }
        guard offset < bytes.count else { throw syntax("unterminated string") }
        var out = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<offset]))
        while let byte = peek {
            if byte == Byte.quote {
                offset += 1
                return String(decoding: out, as: UTF8.self)
            }
            if byte == Byte.backslash {
                try readEscape(into: &out)
            } else {
                let characterStart = offset
                try skipCharacter(byte)
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[characterStart..<offset]))
            }
        }
        throw syntax("unterminated string")
    }

    /// Steps over one character of a string's text: an ASCII byte other
    /// than a control character, or one well-formed UTF-8 sequence.
    mutating func skipCharacter(_ byte: UInt8) throws(Failure) {
        if byte < 0x20 { throw syntax("control character \(describe(byte)) in a string") }
        if byte < 0x80 {
            offset += 1
            return
        }
        // Unicode's table of well-formed sequences: no overlong forms, no
        // UTF-16 surrogates, nothing past U+10FFFF.
        let length: Int
        var secondLow: UInt8 = 0x80
        var secondHigh: UInt8 = 0xBF
        switch byte {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondLow = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondHigh = 0x9F
        case 0xF0: length = 4; secondLow = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondHigh = 0x8F
        default: throw syntax("invalid UTF-8")
        }
        guard bytes.count - offset >= length else { throw syntax("invalid UTF-8") }
        let second = bytes[offset + 1]
        guard second >= secondLow, second <= secondHigh else { throw syntax("invalid UTF-8") }
        for index in 2..<max(2, length) where bytes[offset + index] & 0xC0 != 0x80 {
            throw syntax("invalid UTF-8")
        }
        offset += length
    }

    /// Reads one escape, from its backslash, as UTF-8 into `out`.
    mutating func readEscape(into out: inout [UInt8]) throws(Failure) {
        offset += 1
        guard let byte = peek else { throw syntax("unterminated string") }
        offset += 1
        switch byte {
        case Byte.quote, Byte.backslash, UInt8(ascii: "/"): out.append(byte)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try readHex4()
            var scalar = UInt32(unit)
            if (0xD800...0xDBFF).contains(unit), let low = lowSurrogateFollowing() {
                scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                offset += 6
            } else if (0xD800...0xDFFF).contains(unit) {
                if loneSurrogate == nil { loneSurrogate = unit }
                scalar = 0xFFFD
            }
            appendUTF8(scalar, to: &out)
        default:
            offset -= 1
            throw syntax("invalid escape \\\(describe(byte))")
        }
    }

    /// Four hex digits after `\u`.
    mutating func readHex4() throws(Failure) -> UInt16 {
        guard bytes.count - offset >= 4 else { throw syntax("unterminated \\u escape") }
        var unit: UInt16 = 0
        for _ in 0..<4 {
            guard let digit = hexValue(bytes[offset]) else { throw syntax("\\u must be followed by four hex digits") }
            unit = unit << 4 | UInt16(digit)
            offset += 1
        }
        return unit
    }

    /// The low surrogate escaped right at the current position, if any.
    func lowSurrogateFollowing() -> UInt16? {
        guard bytes.count - offset >= 6, bytes[offset] == Byte.backslash, bytes[offset + 1] == UInt8(ascii: "u") else {
            return nil
        }
        var unit: UInt16 = 0
        for index in 2..<6 {
            guard let digit = hexValue(bytes[offset + index]) else { return nil }
            unit = unit << 4 | UInt16(digit)
        }
        return (0xDC00...0xDFFF).contains(unit) ? unit : nil
    }

    func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case Byte.zero...Byte.nine: byte - Byte.zero
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case ..<0x80:
            out.append(UInt8(scalar))
        case ..<0x800:
            out.append(UInt8(0xC0 | scalar >> 6))
            out.append(UInt8(0x80 | scalar & 0x3F))
        case ..<0x10000:
            out.append(UInt8(0xE0 | scalar >> 12))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        default:
            out.append(UInt8(0xF0 | scalar >> 18))
            out.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    // MARK: Errors

    mutating func skipWhitespace() {
        while let byte = peek, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { offset += 1 }
    }

    func syntax(_ message: String) -> Failure {
        Failure(kind: .syntax, offset: offset, message: message)
    }

    /// A byte as an error message shows it: 'x', or 0x01.
    func describe(_ byte: UInt8) -> String {
        if byte > 0x20, byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x" + String(byte, radix: 16)
    }
}
