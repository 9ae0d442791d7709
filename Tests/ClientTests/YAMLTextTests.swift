@testable import BpfleetClient
import BpfleetShared
import Foundation
import NIOCore
import Testing
import Yams

/// `-o yaml`: the JSON the commands write, as YAML that reads back to the
/// same data, whatever the strings look like.
@Suite("YAML output")
struct YAMLTextTests {
    /// A YAML text read with the types its tags resolve to.
    static func read(_ yaml: String) throws -> JSONValue {
        try value(try #require(try Yams.compose(yaml: yaml)))
    }

    static func value(_ node: Node) throws -> JSONValue {
        switch node {
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return .null
            case .bool: return .bool(scalar.string == "true")
            case .int: return Int64(scalar.string).map(JSONValue.int) ?? .uint(UInt64(scalar.string) ?? 0)
            case .float:
                guard let number = Double.construct(from: scalar) else { return .string("not a float: \(scalar.string)") }
                return .double(number)
            default: return .string(scalar.string)
            }
        case .sequence(let sequence): return .array(try sequence.map(value))
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, element) in mapping { members[key.string ?? "?"] = try value(element) }
            return .object(members)
        case .alias: return .string("alias")
        }
    }

    @Test func stringsThatLookLikeOtherThingsStayStrings() throws {
        let value: JSONValue = .object([
            "texts": .array(["true", "no", "null", "~", "123", "0x1f", "1e3", "-.inf", "", " padded ", "a: b", "- x", "#hash",
                             "'quoted'", "\"double\"", "line one\nline two\n", "tab\there", "ünïcödé", "[1]", "{a: 1}", "@at", "`tick`"]),
            "numbers": .array([.int(-7), .uint(UInt64.max), .int(0), .double(1.5), .double(1e20), .double(-2.5e-8)]),
            "flags": .array([.bool(true), .bool(false), .null]),
            "empty": .object([:]),
            "none": .array([]),
            "yes": "key that reads as a boolean",
        ])
        let yaml = YAMLText.document(value, first: true)
        #expect(try Self.read(yaml) == value, "\(yaml)")
    }

    @Test func floatsKeepTheirPoint() {
        #expect(YAMLText.floatText(1e20) == "1.0e+20")
        #expect(YAMLText.floatText(1.5) == "1.5")
        #expect(YAMLText.floatText(2) == "2.0")
        #expect(YAMLText.floatText(.infinity) == ".inf")
    }

    @Test func wholeValuesAreTakenAndTheRestWaits() {
        var buffer = ByteBuffer(string: "{\"a\":\"}]\\\"\"}\n[1,\n2]\n{\"b\": [")
        var (values, rest) = YAMLText.wholeJSONValues(buffer)
        #expect(values == [.object(["a": "}]\""]), .array([1, 2])])
        #expect(rest.readableBytesView.elementsEqual("{\"b\": [".utf8))
        buffer = rest
        buffer.writeString("3]}\n")
        (values, rest) = YAMLText.wholeJSONValues(buffer)
        #expect(values == [.object(["b": [3]])])
        #expect(rest.readableBytes == 0)
    }

    @Test func documentsAfterTheFirstAreSeparated() {
        #expect(YAMLText.document(["a": 1], first: true) == "a: 1\n")
        #expect(YAMLText.document(["a": 1], first: false) == "---\na: 1\n")
    }
}
