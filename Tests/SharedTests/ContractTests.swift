import BpfleetShared
import Foundation
import Testing

/// The contract is made from the method types: the committed documents
/// must be what the code makes, every field must say what it is, and every
/// example must be what its type reads and writes.
@Suite("Contract")
struct ContractTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func committedOpenRPCDocumentIsWhatTheCodeMakes() throws {
        let committed = try String(contentsOf: Self.root.appendingPathComponent("docs/openrpc.json"), encoding: .utf8)
        #expect(committed == (try Contract().openRPCText()), "docs/openrpc.json is stale: run scripts/contract.sh")
    }

    @Test func committedReferenceIsWhatTheCodeMakes() throws {
        let committed = try String(contentsOf: Self.root.appendingPathComponent("docs/api.md"), encoding: .utf8)
        #expect(committed == (try Contract().reference()), "docs/api.md is stale: run scripts/contract.sh")
    }

    @Test func everyFieldSaysWhatItIsAndEveryDescriptionNamesAField() throws {
        let contract = try Contract()
        for shape in contract.objects.values where shape.variants.isEmpty {
            for field in shape.fields {
                #expect(!field.description.isEmpty, "\(shape.name).\(field.name) has no description")
            }
        }
        func check(_ type: any WireDocumented.Type, fields: [String]) {
            for name in type.wireFields.keys where !fields.contains(name) {
                Issue.record("\(type).wireFields names '\(name)', which is no field of it")
            }
        }
        for method in contract.methods {
            check(method.type, fields: method.params.fields.map(\.name))
            #expect(!method.type.wireSummary.isEmpty)
        }
        for notification in contract.notifications {
            check(notification.type, fields: notification.params.fields.map(\.name))
        }
    }

    @Test func requiredAndOptionalAreWhatTheTypesRead() throws {
        let contract = try Contract()
        let load = try #require(contract.methods.first { $0.type.method == "probe.load" })
        #expect(load.params.fields.filter(\.required).map(\.name) == ["name", "objectId"])
        #expect(load.params.fields.map(\.name) == ["name", "objectId", "programs", "globals", "labels", "replace", "keepMaps", "attach", "maps", "metrics"])
        let map = try #require(contract.objects["LoadedMap"])
        #expect(map.fields.filter { !$0.required }.map(\.name) == ["probe", "keyType", "valueType", "pinPath"])
        let uint32 = try #require(map.fields.first { $0.name == "id" }).schema
        #expect(uint32 == ["type": "integer", "minimum": 0, "maximum": .uint(UInt64(UInt32.max))])
        // A tagged union gives one variant per tag, its own fields each.
        let target = try #require(contract.objects["AttachTarget"])
        #expect(target.variants.count == AttachTarget.allTypes.count)
        let tracepoint = try #require(target.variants.first)
        #expect(tracepoint["required"] == ["type", "category", "name"])
        #expect(tracepoint["properties"]?["type"]?["const"] == "tracepoint")
    }

    @Test func everyExampleIsWhatItsTypeReadsAndWrites() throws {
        func roundTrip<M: RPCMethod>(_ type: M.Type) throws {
            let params = try JSONEncoder.wire().encode(M.example)
            let again = try JSONEncoder.wire().encode(JSONDecoder.wire().decode(M.self, from: params))
            #expect(params == again, "\(M.method)'s example params")
            let result = try JSONEncoder.wire().encode(M.exampleResult)
            let resultAgain = try JSONEncoder.wire().encode(JSONDecoder.wire().decode(M.Result.self, from: result))
            #expect(result == resultAgain, "\(M.method)'s example result")
        }
        for method in ProtocolV1.methods { try roundTrip(method) }
    }

    @Test func methodNamesAreUniqueAndNodeInfoListsThem() {
        let names = ProtocolV1.methods.map { $0.method }
        #expect(Set(names).count == names.count)
        #expect(ProtocolV1.methodNames == names.sorted())
        #expect(NodeInfo.exampleResult.methods == names.sorted())
    }

    @Test func theSameValueIsTheSameBytes() throws {
        // Dictionaries hash differently in each process and each instance:
        // sorted keys are what makes two encodings of one value equal.
        let description = ProbeDescription.example
        var labels: [String: String] = [:]
        for index in 0..<64 { labels["label\(index)"] = "\(index)" }
        var many = description
        many.labels = labels
        let first = try JSONEncoder.wire().encode(many)
        var copy: [String: String] = [:]
        for (key, value) in labels.reversed() { copy[key] = value }
        many.labels = copy
        #expect(try JSONEncoder.wire().encode(many) == first)
        let text = String(decoding: first, as: UTF8.self)
        #expect(text.hasPrefix(#"{"globals":{},"labels":{"label0":"0","label1":"1","label10":"10""#))
    }
}
