@testable import BpfleetServer
import BpfleetShared
import Testing

/// `probe.load`'s `maps` against an object's maps, with no kernel: each
/// rule, and what passes.
@Suite("map settings")
struct MapSettingsCheckTests {
    static func map(_ name: String, _ type: String, entries: UInt32, value: UInt32 = 8, valueType: String? = "__u64") -> MapDescription {
        MapDescription(name: name, type: type, keySize: 4, valueSize: value, maxEntries: entries, keyType: nil, valueType: valueType)
    }

    /// A libbpf-tools object: a pid hash and a ring buffer left unsized,
    /// a stack trace map without BTF, a perf buffer libbpf sizes, task
    /// storage, and globals.
    let check = MapSettingsCheck(maps: [
        map("start", "hash", entries: 0),
        map("events", "ringbuf", entries: 0, value: 0, valueType: nil),
        map("stacks", "stack_trace", entries: 1024, value: 1016, valueType: nil),
        map("perf", "perf_event_array", entries: 0, value: 4, valueType: nil),
        map("task_data", "task_storage", entries: 0),
        map(".rodata", "array", entries: 1, value: 64, valueType: ".rodata"),
    ], pageSize: 4096, numaNodes: [0, 1])

    let sized: [String: MapSettings] = ["start": MapSettings(maxEntries: 10240), "events": MapSettings(maxEntries: 1 << 18)]

    func refusal(_ settings: [String: MapSettings]?) -> ResponseError? {
        do {
            try check.check(settings)
            return nil
        } catch {
            return error
        }
    }

    @Test func everyUnsizedMapMustBeSizedAndTheFirstIsNamed() {
        let none = refusal(nil)
        #expect(none?.code == .invalidParams)
        #expect(none?.message == "maps.start.maxEntries: map 'start' (hash) is declared with max_entries 0: its size is left to the loader; set maps.start.maxEntries (--map-size start=N); also left unsized: events")
        #expect(none?.data == ["field": "maps.start.maxEntries", "map": "start", "unsized": ["start", "events"]])
        #expect(refusal(["start": MapSettings(maxEntries: 1)])?.data?["unsized"] == ["events"])
        // Perf event arrays (libbpf sizes them) and task storage (the kernel does) need nothing.
        #expect(refusal(sized) == nil)
    }

    @Test func settingsThatSuitTheirMapPass() {
        var settings = sized
        settings["stacks"] = MapSettings(maxEntries: 16384, valueSize: 127 * 8, numaNode: 1)
        settings["perf"] = MapSettings(maxEntries: 64, pinning: "probe")
        settings["start"] = MapSettings(maxEntries: 10240, numaNode: 0)
        #expect(refusal(settings) == nil)
        #expect(refusal(["start": MapSettings(maxEntries: 1), "events": MapSettings(maxEntries: 4096)]) == nil)
    }

    @Test(arguments: [
        ("nope", MapSettings(maxEntries: 1), "maps.nope", "maps.nope: the object has no map 'nope' (maps: start, events, stacks, perf, task_data, .rodata)"),
        ("stacks", MapSettings(), "maps.stacks", "maps.stacks: set maxEntries, valueSize, numaNode or pinning, or leave the map out"),
        ("start", MapSettings(maxEntries: 0), "maps.start.maxEntries", "maps.start.maxEntries must be at least 1"),
        ("events", MapSettings(maxEntries: 4095), "maps.events.maxEntries",
         "maps.events.maxEntries: map 'events' is a ringbuf: its size in bytes must be a power of two and a multiple of the page size, 4096 (the next that is: 4096)"),
        ("events", MapSettings(maxEntries: 12288), "maps.events.maxEntries",
         "maps.events.maxEntries: map 'events' is a ringbuf: its size in bytes must be a power of two and a multiple of the page size, 4096 (the next that is: 16384)"),
        ("events", MapSettings(maxEntries: 0x8000_0001), "maps.events.maxEntries",
         "maps.events.maxEntries: map 'events' is a ringbuf: its size in bytes must be a power of two and a multiple of the page size, 4096"),
        ("task_data", MapSettings(maxEntries: 8), "maps.task_data.maxEntries",
         "maps.task_data.maxEntries: map 'task_data' is task_storage: the kernel keeps one value per object, it takes no size"),
        ("task_data", MapSettings(numaNode: 0), "maps.task_data.numaNode",
         "maps.task_data.numaNode: map 'task_data' (task_storage) cannot be placed on a NUMA node"),
        ("start", MapSettings(maxEntries: 1, valueSize: 16), "maps.start.valueSize",
         "maps.start.valueSize: map 'start' has the value type '__u64' (8 bytes) in BTF: its size is the type's"),
        ("perf", MapSettings(valueSize: 8), "maps.perf.valueSize",
         "maps.perf.valueSize: map 'perf' is a perf_event_array: its value size is set by its type"),
        ("stacks", MapSettings(valueSize: 1020), "maps.stacks.valueSize",
         "maps.stacks.valueSize: map 'stacks' is a stack_trace map: its value size is the stack depth times 8"),
        ("stacks", MapSettings(valueSize: 0), "maps.stacks.valueSize", "maps.stacks.valueSize must be at least 1"),
        ("stacks", MapSettings(numaNode: 2), "maps.stacks.numaNode",
         "maps.stacks.numaNode: NUMA node 2 is not online on this node (online: 0, 1)"),
        ("stacks", MapSettings(numaNode: 5000), "maps.stacks.numaNode",
         "maps.stacks.numaNode: NUMA node 5000 is not online on this node (online: 0, 1)"),
        ("stacks", MapSettings(pinning: "byName"), "maps.stacks.pinning",
         "maps.stacks.pinning: 'byName' is not a pinning bpfleetd has: every map of a probe is pinned under the probe's directory (\"probe\"); sharing a map between probes by a pin name is not supported"),
        (".rodata", MapSettings(maxEntries: 2), "maps..rodata",
         "maps..rodata: '.rodata' holds the object's global variables: its size is theirs (set them through globals)"),
    ])
    func eachMistakeNamesItsField(map: String, setting: MapSettings, field: String, message: String) {
        var settings = sized
        settings[map] = map == "start" || map == "events" ? setting.merging(sized[map]) : setting
        let error = refusal(settings)
        #expect(error?.code == .invalidParams)
        #expect(error?.message == message)
        #expect(error?.data?["field"] == .string(field))
    }

    @Test func nodeListsReadAsTheKernelWritesThem() {
        #expect(MapSettingsCheck.parseNodeList("0\n") == [0])
        #expect(MapSettingsCheck.parseNodeList("0-3,8,10-11\n") == [0, 1, 2, 3, 8, 10, 11])
        #expect(MapSettingsCheck.parseNodeList("") == [])
        #expect(MapSettingsCheck.parseNodeList("3-1,x,2000,7-") == [7])
        #expect(MapSettingsCheck.onlineNUMANodes("/nonexistent") == [0])
    }
}

extension MapSettings {
    /// These settings, with the fields they leave out taken from `base`.
    func merging(_ base: MapSettings?) -> MapSettings {
        MapSettings(maxEntries: maxEntries ?? base?.maxEntries, valueSize: valueSize ?? base?.valueSize, numaNode: numaNode ?? base?.numaNode,
                    pinning: pinning ?? base?.pinning)
    }
}
