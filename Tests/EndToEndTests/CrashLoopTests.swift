import BpfleetShared
import Foundation
import TestSupport
import Testing

/// bpfleetd killed (SIGKILL) at random instants while it loads, attaches,
/// replaces, detaches and unloads, and started again on the same state
/// each time: whatever instant a kill hits, the node ends up with the
/// state before the call or after it. Nothing the state directory does not
/// know stays in the kernel, every name can be loaded again, and no
/// temporary file is left.
@Suite(.requiresKernel)
struct CrashLoopTests {
    static let names = ["k0", "k1", "k2"]
    static let kills = 200

    /// A request of a random kind on a random name; many are refused (a
    /// name not loaded, a link that is not there), which is a call too.
    static func randomRequest(objectId: String) -> JSONValue {
        let name = JSONValue.string(names.randomElement() ?? "k0")
        let object = JSONValue.string(objectId)
        let auto: JSONValue = ["type": "auto"]
        let (method, params): (String, JSONValue) = switch Int.random(in: 0..<6) {
        case 0: ("probe.load", ["name": name, "objectId": object])
        case 1: ("probe.load", ["name": name, "objectId": object, "attach": [["program": "count_kill", "target": auto]]])
        case 2: ("probe.attach", ["probe": name, "program": "count_kill", "target": auto])
        case 3: ("probe.detach", ["probe": name, "linkId": .int(Int64.random(in: 1...3))])
        case 4: ("probe.load", ["name": name, "objectId": object, "replace": true, "keepMaps": ["kills"]])
        default: ("probe.unload", ["probe": name])
        }
        return ["jsonrpc": "2.0", "id": 1, "method": .string(method), "params": params]
    }

    /// The ids bpftool shows for programs named count_kill: only this
    /// suite loads them.
    static func countKillPrograms() throws -> Set<UInt32> {
        let result = try run(Bpftool.path, ["-j", "prog", "show"])
        let list = try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]] ?? []
        return Set(list.filter { $0["name"] as? String == "count_kill" }.compactMap { ($0["id"] as? NSNumber)?.uint32Value })
    }

    @Test func killsAtRandomInstantsLeaveTheStateBeforeOrAfterTheCall() async throws {
        try await withServer { server in
            let objectId = try server.client().upload("kill_count")
            for _ in 0..<Self.kills {
                let client = try server.client()
                let line = try JSONEncoder().encode(Self.randomRequest(objectId: objectId))
                try client.send(String(decoding: line, as: UTF8.self))
                usleep(UInt32.random(in: 0...15_000))
                try server.restart(after: SIGKILL)
            }
            let settled = server.log.components(separatedBy: "an interrupted load or unload was settled").count - 1
            print("crash loop: \(Self.kills) kills; \(settled) left a load or unload to settle at the next start")

            let client = try server.client()
            let probes = try JSONDecoder.wire().decode([ProbeDescription].self, from: JSONEncoder().encode(try client.call("probe.list")["probes"]))
            // Every probe came back whole, and is what the kernel runs.
            for probe in probes {
                #expect(probe.state == nil || probe.state == "running", "\(probe.name): \(probe.state ?? "") \(probe.restoreError ?? "")")
                for map in probe.maps { #expect(try Bpftool.exists("map", id: map.id), "\(probe.name): map \(map.id)") }
                for link in probe.links {
                    #expect(link.state == nil || link.state == "attached", "\(probe.name): link \(link.linkId) \(link.state ?? "")")
                    #expect(try Bpftool.exists("link", id: link.id), "\(probe.name): link \(link.linkId) (\(link.id))")
                }
                let linkPins = ((try? FileManager.default.contentsOfDirectory(atPath: "\(server.pinRoot)/\(probe.name)/links")) ?? []).sorted()
                #expect(linkPins == probe.links.map { String($0.linkId) }.sorted(), "\(probe.name)")
            }
            let running = Set(probes.flatMap { $0.programs.map(\.id) })
            // A killed server's descriptors close as it dies; the kernel
            // frees what nothing pins after a grace period.
            let deadline = Date().addingTimeInterval(10)
            while try Self.countKillPrograms() != running, Date() < deadline { usleep(50_000) }
            #expect(try Self.countKillPrograms() == running)
            let top = ((try? FileManager.default.contentsOfDirectory(atPath: server.pinRoot)) ?? []).sorted()
            #expect(top == probes.map(\.name).sorted())

            // No temporary file, no intent, no journal.
            let files = (FileManager.default.enumerator(atPath: server.stateDirectory)?.allObjects as? [String]) ?? []
            #expect(files.filter { $0.contains(".tmp-") } == [])
            #expect(files.filter { $0.hasPrefix("intents/") || $0.hasPrefix("replacing/") } == [])

            // Every name can be loaded again.
            for name in Self.names {
                if probes.contains(where: { $0.name == name }) { try client.call("probe.unload", ["probe": .string(name)]) }
                try client.call("probe.load", ["name": .string(name), "objectId": .string(objectId),
                                               "attach": [["program": "count_kill", "target": ["type": "auto"]]]])
                try client.call("probe.unload", ["probe": .string(name)])
            }
            #expect(server.pins() == [])
        }
    }
}
