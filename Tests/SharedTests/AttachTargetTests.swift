import BpfleetShared
import Foundation
import Testing

private func wireObject<T: Encodable>(_ value: T) throws -> JSONValue {
    try JSONDecoder.wire().decode(JSONValue.self, from: JSONEncoder.wire().encode(value))
}

/// Every case of the enum with the object it must be on the wire.
private let targets: [(AttachTarget, JSONValue)] = [
    (.tracepoint(category: "sched", name: "sched_process_exec"),
     ["type": "tracepoint", "category": "sched", "name": "sched_process_exec"]),
    (.rawTracepoint(name: "sys_enter"), ["type": "raw_tracepoint", "name": "sys_enter"]),
    (.tpBtf(name: "sched_switch"), ["type": "tp_btf", "name": "sched_switch"]),
    (.tpBtf(name: nil), ["type": "tp_btf"]),
    (.uprobe(binary: "/usr/bin/bash", symbol: "readline", offset: nil, pid: 42, retprobe: true),
     ["type": "uprobe", "binary": "/usr/bin/bash", "symbol": "readline", "pid": 42, "retprobe": true]),
    (.uprobe(binary: "/lib/libc.so.6", symbol: nil, offset: 0x1_0000_0000, pid: nil, retprobe: false),
     ["type": "uprobe", "binary": "/lib/libc.so.6", "offset": 4_294_967_296, "retprobe": false]),
    (.usdt(binary: "/usr/bin/python3", provider: "python", name: "function__entry", pid: nil),
     ["type": "usdt", "binary": "/usr/bin/python3", "provider": "python", "name": "function__entry"]),
    (.usdt(binary: "/b", provider: "p", name: "n", pid: 7), ["type": "usdt", "binary": "/b", "provider": "p", "name": "n", "pid": 7]),
    (.kprobe(function: "do_sys_openat2", retprobe: false), ["type": "kprobe", "function": "do_sys_openat2", "retprobe": false]),
    (.kprobe(function: "vfs_read", retprobe: true), ["type": "kprobe", "function": "vfs_read", "retprobe": true]),
    (.fentry(function: "tcp_connect"), ["type": "fentry", "function": "tcp_connect"]),
    (.fentry(function: nil), ["type": "fentry"]),
    (.fexit(function: "tcp_close"), ["type": "fexit", "function": "tcp_close"]),
    (.fexit(function: nil), ["type": "fexit"]),
    (.xdp(interface: "veth0", mode: "native"), ["type": "xdp", "interface": "veth0", "mode": "native"]),
    (.xdp(interface: "eth0", mode: nil), ["type": "xdp", "interface": "eth0"]),
    (.tc(interface: "veth1", direction: "ingress", priority: 3),
     ["type": "tc", "interface": "veth1", "direction": "ingress", "priority": 3]),
    (.tc(interface: "veth1", direction: "egress", priority: nil), ["type": "tc", "interface": "veth1", "direction": "egress"]),
    (.cgroup(path: "/sys/fs/cgroup/web", attachType: "cgroup_inet_ingress"),
     ["type": "cgroup", "path": "/sys/fs/cgroup/web", "attachType": "cgroup_inet_ingress"]),
    (.perfEvent(event: "cpu-clock", frequency: 99), ["type": "perf_event", "event": "cpu-clock", "frequency": 99]),
    (.auto, ["type": "auto"]),
]

@Suite("AttachTarget")
struct AttachTargetTests {
    @Test(arguments: targets.indices)
    func encodesWithItsTypeTag(index: Int) throws {
        let (target, wire) = targets[index]
        #expect(try wireObject(target) == wire)
        #expect(wire["type"]?.stringValue == target.type)
    }

    @Test(arguments: targets.indices)
    func decodesBack(index: Int) throws {
        let (target, wire) = targets[index]
        let text = String(decoding: try JSONEncoder.wire().encode(wire), as: UTF8.self)
        #expect(try decodeWire(AttachTarget.self, text) == target)
        #expect(try decodeWire(AttachTarget.self, String(decoding: JSONEncoder.wire().encode(target), as: UTF8.self)) == target)
    }

    @Test func everyTypeTagIsListedOnce() {
        let tags = Set(targets.map(\.0.type))
        #expect(tags == Set(AttachTarget.allTypes))
        #expect(AttachTarget.allTypes.count == Set(AttachTarget.allTypes).count)
        #expect(AttachTarget.allTypes.count == 13)
    }

    @Test func optionalFlagsDefaultToFalse() throws {
        #expect(try decodeWire(AttachTarget.self, #"{"type":"kprobe","function":"f"}"#) == .kprobe(function: "f", retprobe: false))
        #expect(try decodeWire(AttachTarget.self, #"{"type":"uprobe","binary":"/b","symbol":"s"}"#)
            == .uprobe(binary: "/b", symbol: "s", offset: nil, pid: nil, retprobe: false))
    }

    @Test func unknownTypeListsTheTypes() throws {
        let error = try #require(throws: DecodingError.self) {
            try decodeWire(AttachTarget.self, #"{"type":"kprobe_multi","function":"f"}"#)
        }
        guard case .dataCorrupted(let context) = error else {
            Issue.record("expected dataCorrupted, got \(error)")
            return
        }
        #expect(context.codingPath.map(\.stringValue) == ["type"])
        #expect(context.debugDescription
            == "unknown target type 'kprobe_multi' (one of: tracepoint, raw_tracepoint, tp_btf, uprobe, usdt, kprobe, fentry, fexit, xdp, tc, cgroup, perf_event, auto)")
        for type in AttachTarget.allTypes {
            #expect(context.debugDescription.contains(type))
        }
    }

    @Test func missingTypeIsKeyNotFound() throws {
        let error = try #require(throws: DecodingError.self) { try decodeWire(AttachTarget.self, #"{"name":"x"}"#) }
        guard case .keyNotFound(let key, _) = error else {
            Issue.record("expected keyNotFound, got \(error)")
            return
        }
        #expect(key.stringValue == "type")
    }

    @Test func missingRequiredFieldIsKeyNotFound() throws {
        let error = try #require(throws: DecodingError.self) {
            try decodeWire(AttachTarget.self, #"{"type":"perf_event","event":"cpu-clock"}"#)
        }
        guard case .keyNotFound(let key, _) = error else {
            Issue.record("expected keyNotFound, got \(error)")
            return
        }
        #expect(key.stringValue == "frequency")
    }

    @Test func description() {
        #expect(AttachTarget.tracepoint(category: "sched", name: "sched_process_exec").description == "tracepoint:sched/sched_process_exec")
        #expect(AttachTarget.uprobe(binary: "/b", symbol: nil, offset: 255, pid: nil, retprobe: true).description == "uretprobe:/b:0xff")
        #expect(AttachTarget.kprobe(function: "f", retprobe: true).description == "kretprobe:f")
        #expect(AttachTarget.xdp(interface: "veth0", mode: "skb").description == "xdp:veth0/skb")
        #expect(AttachTarget.perfEvent(event: "cpu-clock", frequency: 99).description == "perf_event:cpu-clock@99Hz")
        #expect(AttachTarget.auto.description == "auto")
        #expect(AttachTarget.uprobe(binary: "/b", symbol: "f", offset: nil, pid: 42, retprobe: false).description == "uprobe:/b:f[pid=42]")
        #expect(AttachTarget.tc(interface: "eth0", direction: "egress", priority: 7).description == "tc:eth0/egress[prio=7]")
        #expect(AttachTarget.tc(interface: "eth0", direction: "ingress", priority: nil).description == "tc:eth0/ingress")
    }
}

@Suite("MapRef")
struct MapRefTests {
    @Test func namedRoundTrip() throws {
        let ref = MapRef.named(probe: "web", name: "counts")
        #expect(try wireObject(ref) == ["probe": "web", "name": "counts"])
        #expect(try decodeWire(MapRef.self, #"{"probe":"web","name":"counts"}"#) == ref)
        #expect(ref.description == "web/counts")
    }

    @Test func idRoundTrip() throws {
        let ref = MapRef.id(4_294_967_295)
        #expect(try wireObject(ref) == ["id": 4_294_967_295])
        #expect(try decodeWire(MapRef.self, #"{"id":4294967295}"#) == ref)
        #expect(ref.description == "map id 4294967295")
    }

    @Test func neitherFormIsKeyNotFound() throws {
        let error = try #require(throws: DecodingError.self) { try decodeWire(MapRef.self, #"{"name":"counts"}"#) }
        guard case .keyNotFound(let key, _) = error else {
            Issue.record("expected keyNotFound, got \(error)")
            return
        }
        #expect(key.stringValue == "probe")
    }

    @Test func idOfTheWrongTypeThrows() {
        #expect(throws: DecodingError.self) { try decodeWire(MapRef.self, #"{"id":"7"}"#) }
    }

    @Test func valueFormatRawValues() throws {
        #expect(ValueFormat.allCases.map(\.rawValue) == ["typed", "hex"])
        let snapshot = try decodeWire(MapSnapshot.self, #"{"map":{"id":3},"format":"hex","limit":10}"#)
        #expect(snapshot.map == .id(3))
        #expect(snapshot.format == .hex)
        #expect(snapshot.limit == 10)
        #expect(throws: DecodingError.self) { try decodeWire(MapSnapshot.self, #"{"map":{"id":3},"format":"xml"}"#) }
    }
}
