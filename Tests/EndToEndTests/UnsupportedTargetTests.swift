import BpfleetShared
import Foundation
import TestSupport
import Testing

/// Targets the kernel may lack: where it does, a clean -32008 naming the
/// missing feature (what node.info also says); where it has them, they work.
@Suite(.requiresKernel)
struct UnsupportedTargetTests {
    @Test func kprobeIsRefusedNamingConfigKprobesOrCounts() async throws {
        try await withServer { server in
            let client = try server.client()
            let info = try client.call("node.info")
            try client.load("kprobe_count", as: "kp")
            let target: JSONValue = ["type": "kprobe", "function": "do_unlinkat"]
            guard info["missingFeatures"]?["kprobe"] == "CONFIG_KPROBES" else {
                #expect(info["attachTargets"]?.arrayValue.contains("kprobe") == true)
                try client.call("probe.attach", ["probe": "kp", "program": "count_kprobe", "target": target])
                let file = NSTemporaryDirectory() + "bpfleet-unlink-\(UInt32.random(in: 0...UInt32.max))"
                for _ in 0..<5 { try createFile(file); unlink(file) }
                let count = try client.call("map.lookup", ["map": ["probe": "kp", "name": "kprobe_calls"], "key": 0])["value"]?.uint64Value
                #expect((count ?? 0) >= 5)
                return
            }
            #expect(info["attachTargets"]?.arrayValue.contains("kprobe") == false)
            for target in [target, ["type": "auto"]] {
                let error = try client.callError("probe.attach", ["probe": "kp", "program": "count_kprobe", "target": target])
                #expect(error.code == .unsupported)
                #expect(error.data?["feature"] == "CONFIG_KPROBES")
                #expect(error.message.contains("CONFIG_KPROBES"))
            }
            #expect(try client.call("probe.get", ["probe": "kp"])["links"] == [])
        }
    }

    @Test(arguments: [("fentry_count", "fentry", "fentry (BPF trampoline)"), ("lsm_file_open", "lsm", "lsm (CONFIG_BPF_LSM / lsm=bpf)")])
    func trampolineProgramsAreRefusedNamingTheFeatureOrAttach(program: String, kind: String, feature: String) async throws {
        try await withServer { server in
            let client = try server.client()
            let info = try client.call("node.info")
            let objectId = try client.upload(program)
            guard info["missingFeatures"]?[kind] == .string(feature) else {
                try client.call("probe.load", ["name": "t", "objectId": .string(objectId)])
                let link = try client.call("probe.attach", ["probe": "t", "program": .string(program == "fentry_count" ? "count_fentry" : "count_file_open"),
                                                            "target": ["type": "auto"]])
                #expect(try Bpftool.show("link", id: link["id"]!.uint64Value!.asUInt32)?["type"] as? String == "tracing")
                return
            }
            let error = try client.callError("probe.load", ["name": "t", "objectId": .string(objectId)])
            #expect(error.code == .unsupported)
            #expect(error.data?["feature"] == .string(feature))
            #expect(try client.call("probe.list")["probes"] == [])
            #expect(server.pins().isEmpty)
            if kind == "fentry" {
                #expect(info["unsupportedTargets"]?["fexit"] != nil)
                #expect(info["attachTargets"]?.arrayValue.contains("fentry") == false)
            }
        }
    }

    @Test func nodeInfoListsEveryTargetThisNodeServes() async throws {
        try await withServer { server in
            let info = try server.client().call("node.info")
            let served = Set(info["attachTargets"]?.arrayValue.compactMap(\.stringValue) ?? [])
            #expect(served.isSuperset(of: ["tracepoint", "raw_tracepoint", "tp_btf", "uprobe", "usdt", "xdp", "tc", "cgroup", "perf_event", "auto"]))
            guard case .object(let unsupportedMap)? = info["unsupportedTargets"] else { throw TestFailure("no unsupportedTargets") }
            let unsupported = Array(unsupportedMap.keys)
            for target in unsupported {
                #expect(!served.contains(target))
                #expect(info["missingFeatures"]?[target]?.stringValue?.isEmpty == false)
            }
        }
    }
}
