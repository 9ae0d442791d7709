import BpfleetShared
import Foundation
import Testing

private func decode(_ json: String) throws -> JSONValue {
    try decodeWire(JSONValue.self, json)
}

private func encode(_ value: JSONValue) throws -> String {
    let encoder = JSONEncoder.wire()
    encoder.outputFormatting.insert(.sortedKeys)
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

@Suite("JSONValue")
struct JSONValueTests {
    @Test(arguments: [
        ("-9223372036854775808", JSONValue.int(.min)),
        ("9223372036854775807", .int(.max)),
        ("9223372036854775808", .uint(9_223_372_036_854_775_808)),
        ("18446744073709551615", .uint(.max)),
        ("0", .int(0)),
        ("1", .int(1)),
        ("-1", .int(-1)),
        ("1.5", .double(1.5)),
        ("-0.25", .double(-0.25)),
        ("1e300", .double(1e300)),
        ("true", .bool(true)),
        ("false", .bool(false)),
        ("null", .null),
        (#""42""#, .string("42")),
        (#""é\n""#, .string("é\n")),
        ("[]", .array([])),
        ("{}", .object([:])),
    ])
    func decodesExactly(json: String, expected: JSONValue) throws {
        #expect(try decode(json) == expected)
    }

    @Test func integersAreNotBooleans() throws {
        #expect(try decode("[0,1,true]") == .array([.int(0), .int(1), .bool(true)]))
    }

    @Test func decodesNested() throws {
        let json = #"{"a":[1,-2,18446744073709551615,{"b":null}],"c":{"d":"x","e":[true,2.5]}}"#
        #expect(try decode(json) == .object([
            "a": .array([.int(1), .int(-2), .uint(.max), .object(["b": .null])]),
            "c": .object(["d": .string("x"), "e": .array([.bool(true), .double(2.5)])]),
        ]))
    }

    @Test(arguments: [
        (JSONValue.int(.min), "-9223372036854775808"),
        (.int(.max), "9223372036854775807"),
        (.uint(.max), "18446744073709551615"),
        (.int(0), "0"),
        (.double(1.5), "1.5"),
        (.bool(false), "false"),
        (.null, "null"),
        (.string("a/b"), #""a/b""#),
        (.array([.int(1), .string("x")]), #"[1,"x"]"#),
        (.object(["b": .int(1), "a": .null]), #"{"a":null,"b":1}"#),
    ])
    func encodesExactly(value: JSONValue, expected: String) throws {
        #expect(try encode(value) == expected)
    }

    @Test(arguments: [
        JSONValue.int(.min),
        .int(.max),
        .uint(.max),
        .uint(UInt64(Int64.max) + 1),
        .double(1.5),
        .double(-1e-9),
        .double(1.7976931348623157e308),
        .string("quote \" backslash \\ newline \n tab \t nul \u{0} é 😀"),
        .array([]),
        .object([:]),
        .object([
            "min": .int(.min), "max": .uint(.max), "list": .array([.null, .bool(true), .double(0.5), .string("")]),
            "nested": .object(["deeper": .object(["x": .int(-1)])]),
        ]),
    ])
    func roundTrips(value: JSONValue) throws {
        #expect(try decode(try encode(value)) == value)
    }

    @Test func literals() {
        let value: JSONValue = ["a": 1, "b": [true, nil, "s"]]
        #expect(value == .object(["a": .int(1), "b": .array([.bool(true), .null, .string("s")])]))
    }

    @Test func accessors() {
        let value: JSONValue = ["name": "x", "n": 5]
        #expect(value["name"] == .string("x"))
        #expect(value["missing"] == nil)
        #expect(JSONValue.array([1])["name"] == nil)
        #expect(value["name"]?.stringValue == "x")
        #expect(value["n"]?.stringValue == nil)

        #expect(JSONValue.int(-5).int64Value == -5)
        #expect(JSONValue.uint(5).int64Value == 5)
        #expect(JSONValue.uint(.max).int64Value == nil)
        #expect(JSONValue.double(5).int64Value == nil)
        #expect(JSONValue.int(5).uint64Value == 5)
        #expect(JSONValue.int(-1).uint64Value == nil)
        #expect(JSONValue.uint(.max).uint64Value == .max)
        #expect(JSONValue.string("5").uint64Value == nil)
    }

    @Test func typeNames() {
        #expect(JSONValue.null.typeName == "null")
        #expect(JSONValue.bool(true).typeName == "boolean")
        #expect(JSONValue.int(1).typeName == "integer")
        #expect(JSONValue.uint(.max).typeName == "integer")
        #expect(JSONValue.double(1.5).typeName == "number")
        #expect(JSONValue.string("").typeName == "string")
        #expect(JSONValue.array([]).typeName == "array")
        #expect(JSONValue.object([:]).typeName == "object")
    }
}
