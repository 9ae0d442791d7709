import Foundation

extension ProgramDescription: WireDocumented {
    public static let wireSummary = "A program as its ELF object describes it."
    public static let wireFields: [String: WireField] = [
        "name": "The program's name (its function).",
        "section": "Its ELF section (`tracepoint/sched/sched_process_exec`).",
        "type": "Its program type (libbpf's name).",
        "attachType": "Its expected attach type (libbpf's name), when it has one.",
        "instructions": WireField("Instructions in the object.", minimum: 0),
    ]
}

extension MapDescription: WireDocumented {
    public static let wireSummary = "A map as its ELF object describes it."
    public static let wireFields: [String: WireField] = [
        "name": "The map's name.",
        "type": "Its map type (libbpf's name).",
        "keySize": "Key size in bytes.",
        "valueSize": "Value size in bytes.",
        "maxEntries": "Its `max_entries` as declared (0: left to the loader).",
        "keyType": "The key's BTF type name, when the object carries BTF.",
        "valueType": "The value's BTF type name, when the object carries BTF.",
    ]
}

extension GlobalVariable: WireDocumented {
    public static let wireSummary = "A global variable in `.rodata`, `.data` or `.bss` that `probe.load` can set."
    public static let wireFields: [String: WireField] = [
        "name": "The variable's name.",
        "section": "`.rodata`, `.data` or `.bss` (or a named one, `.rodata.cfg`).",
        "type": "Its BTF type, as C writes it.",
        "size": WireField("Size in bytes.", minimum: 0),
        "offset": WireField("Offset in its section.", minimum: 0),
        "readOnly": "True in a read-only section: set at load, frozen after.",
    ]
}

extension ObjectDescription: WireDocumented {
    public static let wireSummary = "An uploaded object: what it holds, without loading it."
    public static let wireFields: [String: WireField] = [
        "objectId": "The object's id: `sha256:` and the hex digest of its bytes.",
        "name": "The name given at upload.",
        "size": WireField("Its size in bytes.", minimum: 0),
        "uploadedAt": "When it was first uploaded.",
        "programs": "Its programs.",
        "maps": "Its maps.",
        "globals": "Its global variables.",
        "usedBy": "Probes loaded from it now.",
        "signatures": "The signatures the node holds for it, as uploaded. Absent when none.",
        "signers": "On a node with an object policy: the policy's keys whose signatures of it verified. Absent without a policy.",
        "policy": WireField("On a node with an object policy: `satisfied`, or `audited` when only the policy's `unsigned: audit` let it in. Absent without a policy.", values: ["satisfied", "audited"]),
    ]

    public static let example = ObjectDescription(
        objectId: "sha256:6a1f0c3e9b2d4f5a8c7e1b0d3f2a5c4e7b9d1f0a3c5e7b9d2f4a6c8e0b1d3f5a", name: "exec_count.bpf.o", size: 4136,
        uploadedAt: exampleDate,
        programs: [ProgramDescription(name: "count_exec", section: "tracepoint/sched/sched_process_exec", type: "tracepoint", attachType: nil, instructions: 14)],
        maps: [MapDescription(name: "counts", type: "array", keySize: 4, valueSize: 8, maxEntries: 1, keyType: "u32", valueType: "u64")],
        globals: [], usedBy: ["execs"])
}

extension LoadedProgram: WireDocumented {
    public static let wireSummary = "A program of a probe, in the kernel."
    public static let wireFields: [String: WireField] = [
        "name": "The program's name.",
        "section": "Its ELF section.",
        "type": "Its program type.",
        "id": "The kernel's program id (`bpftool prog show id N`).",
        "tag": "The kernel's tag of the program (hex).",
        "verifiedInstructions": "Instructions the verifier processed (kernel 5.16+).",
        "instructions": "Its size after loading, in instructions.",
        "runCount": "Times it ran, when the kernel keeps run statistics.",
        "runTimeNs": "Nanoseconds it ran in all, when the kernel keeps run statistics.",
    ]
}

extension LoadedMap: WireDocumented {
    public static let wireSummary = "A map of a probe, in the kernel."
    public static let wireFields: [String: WireField] = [
        "name": "The map's name.",
        "probe": "The probe holding it.",
        "type": "Its map type.",
        "id": "The kernel's map id (`bpftool map show id N`); `{\"id\": N}` names the map in map calls.",
        "keySize": "Key size in bytes.",
        "valueSize": "Value size in bytes.",
        "maxEntries": "Its `max_entries` in the kernel.",
        "keyType": "The key's BTF type name.",
        "valueType": "The value's BTF type name.",
        "pinPath": "Where it is pinned in bpffs.",
    ]

    public static let example = LoadedMap(
        name: "counts", probe: "execs", type: "array", id: 88, keySize: 4, valueSize: 8, maxEntries: 1,
        keyType: "u32", valueType: "u64", pinPath: "/sys/fs/bpf/bpfleet/execs/maps/counts")
}

extension LinkDescription: WireDocumented {
    public static let wireSummary = "An attachment of one program of a probe."
    public static let wireFields: [String: WireField] = [
        "linkId": WireField("The link's id in the probe, counting from 1; kept across restarts.", minimum: 1),
        "id": "The kernel's link id (`bpftool link show`): the first of `ids`, or 0 for a classic tc filter or a link not in the kernel.",
        "ids": "Every kernel link id of the attachment: one per online CPU for `perf_event`, none for a classic tc filter.",
        "program": "The program attached.",
        "target": "Where it is attached, as asked.",
        "resolvedTarget": "For an `auto` target: the target the program's section names, where the link is attached (absent for an lsm section).",
        "pinPath": "Where the link is pinned in bpffs.",
        "attachedAt": "When it was attached.",
        "state": WireField("`attached` (in the kernel and running), `missing` (the kernel let go of it) or `failed` (in the desired state but not attached).",
                           values: ["attached", "missing", "failed"]),
        "stateReason": "Why a link is `missing` or `failed`.",
    ]

    public static let example = LinkDescription(
        linkId: 1, id: 31, ids: [31], program: "count_exec", target: .tracepoint(category: "sched", name: "sched_process_exec"),
        pinPath: "/sys/fs/bpf/bpfleet/execs/links/1", attachedAt: exampleDate, state: "attached")
}

extension ProbeDescription: WireDocumented {
    public static let wireSummary = "A probe: one object loaded under a name, its programs, maps and links."
    public static let wireFields: [String: WireField] = [
        "name": "The probe's name.",
        "objectId": "The object it was loaded from.",
        "labels": "Its labels.",
        "globals": "The global variables set at load.",
        "loadedAt": "When `probe.load` loaded it.",
        "programs": "Its programs in the kernel.",
        "maps": "Its maps in the kernel.",
        "links": "Its links.",
        "origin": WireField("`loaded` (by a `probe.load` this bpfleetd served), `adopted` (found pinned at start-up) or `restored` (loaded again at start-up from the desired state).",
                            values: ["loaded", "adopted", "restored"]),
        "state": WireField("`running`, `degraded` (links of the desired state missing: `restoreError` says which) or `failed` (nothing in the kernel: `restoreError` says why).",
                           values: ["running", "degraded", "failed"]),
        "adoptedAt": "When this bpfleetd adopted it.",
        "restoredAt": "When this bpfleetd restored it.",
        "restoreError": "What went wrong at start-up, for `degraded` and `failed`.",
        "replacedProgramIds": "In the answer to a `probe.load` with `replace`: the kernel ids of the programs it freed.",
        "mapSettings": "The map settings it was loaded with (`probe.load`'s `maps`).",
        "metrics": "The map exports it was loaded with (`probe.load`'s `metrics`).",
        "recordTypes": "`probe.get` only: the struct types the object defines (named structs of its BTF the kernel's BTF lacks), as `struct NAME`, sorted; what a `recordType` is likely to be.",
        "signers": "On a node with an object policy: the policy's keys that signed the probe's object. Absent without a policy.",
        "policy": WireField("On a node with an object policy: `satisfied`, or `audited` when only the policy's `unsigned: audit` let the object in. Absent without a policy.", values: ["satisfied", "audited"]),
    ]

    public static var example: ProbeDescription {
        ProbeDescription(
            name: "execs", objectId: ObjectDescription.example.objectId, labels: ["team": "web"], globals: [:], loadedAt: exampleDate,
            programs: [LoadedProgram(name: "count_exec", section: "tracepoint/sched/sched_process_exec", type: "tracepoint", id: 412,
                                     tag: "9f8a3c61d0b2e4f7", verifiedInstructions: 14, instructions: 14, runCount: 1234, runTimeNs: 987654)],
            maps: [.example], links: [.example], origin: "loaded", state: "running")
    }
}

extension MapEntry: WireDocumented {
    public static let wireSummary = "One map entry: key and value typed through BTF, or hex (docs/values.md)."
    public static let wireFields: [String: WireField] = [
        "key": "The key.",
        "value": "The value; with `symbolize`, a stack trace map's value is its frames, innermost first.",
        "stacks": "With `symbolize`, for a map whose entries hold stack ids: each stack-id member's frames, innermost first, or `{\"reason\": ...}` when the id names no stack (docs/protocol.md, \"Stacks\").",
    ]
}

extension MapSettings: WireDocumented {
    public static let wireSummary = "What a load may set of one map before the kernel creates it; each field left out keeps what the object declares."
    public static let wireFields: [String: WireField] = [
        "maxEntries": "Its `max_entries`: entries of a hash or array, bytes of a ring buffer (a power-of-two multiple of the page size), CPUs of a perf event array.",
        "valueSize": "The value size in bytes, for maps whose value has no BTF type (a stack trace map's).",
        "numaNode": "The NUMA node the kernel allocates the map on.",
        "pinning": WireField("`probe`, the only way: pinned under the probe's own directory, whatever the object declares.", values: ["probe"]),
    ]
}

extension ValueFormat: WireSchemaProviding {
    public static let wireSample = ValueFormat.typed
}

extension MapRef: WireSchemaProviding {
    public static func wireSchema(_ shapes: WireShapes) -> JSONValue {
        [
            "description": "A map: by probe and map name, or by the kernel's map id (maps of this node's probes only).",
            "oneOf": [
                [
                    "type": "object", "required": ["probe", "name"], "additionalProperties": false,
                    "properties": ["probe": ["type": "string", "description": "The probe's name."], "name": ["type": "string", "description": "The map's name."]],
                ],
                [
                    "type": "object", "required": ["id"], "additionalProperties": false,
                    "properties": ["id": ["type": "integer", "minimum": 1, "maximum": .int(Int64(UInt32.max)), "description": "The kernel's map id."]],
                ],
            ],
        ]
    }

    public static let wireSample = MapRef.id(1)
}

extension MetricExport: WireDocumented {
    public static let wireSummary = "One map of the probe exported to Prometheus: each entry a sample of the metric, labelled with fields of its key (docs/metrics.md, \"Map exports\")."
    public static let wireFields: [String: WireField] = [
        "map": "The map, by its name in the object.",
        "name": WireField("The metric's name, not starting `bpfleet_`; a counter's ends in `_total`.", pattern: "^[a-zA-Z_:][a-zA-Z0-9_:]{0,199}$"),
        "help": "The metric's help text.",
        "kind": WireField("`counter` or `gauge` (an integer of the value), `histogram` (an array of slot counts in the value).", values: MetricExport.kinds),
        "value": "The value's member holding the number or the slot array, as a dotted path (`stats.bytes`); absent when the value itself is.",
        "labels": "Labels from the key, in order; bpfleet adds `probe`.",
        "buckets": "Histogram: what each slot counts.",
        "sum": "Histogram: the value's member holding the sum of what was observed (`_sum`).",
    ]
}

extension MetricLabel: WireDocumented {
    public static let wireSummary = "A label of a map export: a member of the key and how it turns into text."
    public static let wireFields: [String: WireField] = [
        "name": WireField("The label's name: not `probe`, `le`, or starting `__`.", pattern: "^[a-zA-Z_][a-zA-Z0-9_]{0,199}$"),
        "field": "The key's member, as a dotted path; absent when the key itself is.",
        "decoder": WireField("`ksym` (a kernel address: the symbol), `ipv4`, `ipv6` (an address as it lies in memory), `syscall` (a syscall number: its name), `cgroup` (a cgroup id: its path), `errno` (a number, or its negation: `ENOENT`), `static` (`values`); absent: the field as it is.",
                             values: MetricLabel.decoders),
        "values": "With `static`: label values by the field's value in decimal (`{\"0\": \"read\"}`); others read as their number.",
    ]
}

extension MetricBuckets: WireDocumented {
    public static let wireSummary = "How the slots of a histogram's array map to bounds."
    public static let wireFields: [String: WireField] = [
        "type": WireField("`log2`: slot i counts 2^i to 2^(i+1)-1 (slot 0 also 0); `linear`: slot i counts min+i*width to min+(i+1)*width-1.", values: MetricBuckets.types),
        "width": WireField("`linear`: a slot's width.", minimum: 1),
        "min": "`linear`: slot 0's lower bound (default 0).",
        "multiplier": "Bounds and `_sum` are multiplied by this (`0.000001`: microseconds to seconds); default 1.",
    ]
}
