@testable import BpfleetClient
import BpfleetShared
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A manifest that must be refused, and exactly how: `FILE:LINE:COLUMN:
/// FIELD: message`. `DIR` in `expected` is the fixture's directory.
struct Refusal: Sendable, CustomTestStringConvertible {
    var name: String
    var yaml: String
    var expected: String
    var testDescription: String { name }

    init(_ name: String, _ yaml: String, _ expected: String) {
        self.name = name
        self.yaml = yaml
        self.expected = expected
    }
}

/// The two lines every manifest needs, for cases about the rest.
private let head = "probe: p\nobject: build/probe.bpf.o\n"

private let yamlRefusals: [Refusal] = [
    Refusal("YAML that does not parse", "probe: p\nobject: [a, b\n",
            "probe.yaml:3:1: not valid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 2)"),
    Refusal("a second document", head + "---\nprobe: q\n",
            "probe.yaml:4:1: a second YAML document: a manifest holds one probe (put each in its own file)"),
    Refusal("a second document after an empty one", "---\n" + head + "---\n---\n- x\n",
            "probe.yaml:6:1: a second YAML document: a manifest holds one probe (put each in its own file)"),
    Refusal("a YAML mistake in a later document", head + "---\nx: [\n",
            "probe.yaml:5:1: not valid YAML: did not find expected node content (while parsing a flow node at line 5)"),
    Refusal("an empty file", "", "probe.yaml:1:1: the manifest is empty: it needs at least probe and object"),
    Refusal("only comments", "# nothing yet\n", "probe.yaml:1:1: the manifest is empty: it needs at least probe and object"),
    Refusal("a list, not a mapping", "- probe: p\n",
            "probe.yaml:1:1: expected a mapping (probe: ..., object: ...), got a list"),
    Refusal("a key twice", "probe: p\nprobe: q\nobject: build/probe.bpf.o\n",
            "probe.yaml:1:1: 'probe' given twice in the same mapping"),
]

private let keyRefusals: [Refusal] = [
    Refusal("an unknown key close to a known one", head + "progams: [a]\n",
            "probe.yaml:3:1: progams: unknown key; did you mean 'programs'?"),
    Refusal("a known key in the wrong case", head + "keepmaps: [a]\n",
            "probe.yaml:3:1: keepmaps: unknown key; did you mean 'keepMaps'?"),
    Refusal("an unknown key like no known one", head + "owner: alice\n",
            "probe.yaml:3:1: owner: unknown key (known: probe, object, signatures, programs, globals, maps, metrics, labels, keepMaps, attach, nodes, rollout)"),
    Refusal("an unknown key in rollout", head + "rollout:\n  canry: 1\n",
            "probe.yaml:4:3: rollout.canry: unknown key; did you mean 'canary'?"),
    Refusal("an unknown key in nodes", head + "nodes: {selectr: a}\n",
            "probe.yaml:3:9: nodes.selectr: unknown key; did you mean 'selector'?"),
    Refusal("an unknown key in an attach entry", head + "attach:\n  - program: a\n    targte: {type: auto}\n",
            "probe.yaml:5:5: attach[0].targte: unknown key; did you mean 'target'?"),
    Refusal("a key that is not a word", head + "[a]: 1\n", "probe.yaml:3:1: a key must be a word, got a list"),
]

private let probeRefusals: [Refusal] = [
    Refusal("no probe", "object: build/probe.bpf.o\n", "probe.yaml:1:1: probe: missing: the probe's name on every node"),
    Refusal("no object", "probe: p\n", "probe.yaml:1:1: object: missing: the BPF ELF object's path, relative to this file"),
    Refusal("an empty probe", "probe:\nobject: build/probe.bpf.o\n",
            "probe.yaml:1:1: probe: empty: expected the probe's name on every node"),
    Refusal("a probe that is a list", "probe: [a]\nobject: build/probe.bpf.o\n",
            "probe.yaml:1:8: probe: expected a probe name, got a list"),
    Refusal("a probe name starting with a dot", "probe: .hidden\nobject: build/probe.bpf.o\n",
            "probe.yaml:1:8: probe: '.hidden' is not a valid probe name (1-64 of A-Z a-z 0-9 _ - ., not starting with '.')"),
    Refusal("a probe name with a space", "probe: 'exec count'\nobject: build/probe.bpf.o\n",
            "probe.yaml:1:8: probe: 'exec count' is not a valid probe name (1-64 of A-Z a-z 0-9 _ - ., not starting with '.')"),
    Refusal("a probe name of 65 characters", "probe: \(String(repeating: "a", count: 65))\nobject: build/probe.bpf.o\n",
            "probe.yaml:1:8: probe: '\(String(repeating: "a", count: 65))' is not a valid probe name (1-64 of A-Z a-z 0-9 _ - ., not starting with '.')"),
    Refusal("an empty quoted probe name", "probe: ''\nobject: build/probe.bpf.o\n",
            "probe.yaml:1:8: probe: '' is not a valid probe name (1-64 of A-Z a-z 0-9 _ - ., not starting with '.')"),
    Refusal("an object that is a mapping", "probe: p\nobject: {path: a}\n",
            "probe.yaml:2:9: object: expected a file path, got a mapping"),
]

private let objectRefusals: [Refusal] = [
    Refusal("an object that does not exist", "probe: p\nobject: build/nope.bpf.o\n",
            "probe.yaml:2:9: object: 'build/nope.bpf.o' (DIR/build/nope.bpf.o): no such file"),
    Refusal("an absolute object path that does not exist", "probe: p\nobject: /nonexistent/x.bpf.o\n",
            "probe.yaml:2:9: object: '/nonexistent/x.bpf.o': no such file"),
    Refusal("an object that is a directory", "probe: p\nobject: build\n",
            "probe.yaml:2:9: object: 'build' (DIR/build) is a directory, not a BPF ELF object"),
    Refusal("an object that is not ELF", "probe: p\nobject: build/text.o\n",
            "probe.yaml:2:9: object: 'build/text.o' (DIR/build/text.o) is not an ELF file (a BPF object is what clang -target bpf -c makes)"),
    Refusal("an empty object", "probe: p\nobject: build/empty.o\n",
            "probe.yaml:2:9: object: 'build/empty.o' (DIR/build/empty.o) is not an ELF file (a BPF object is what clang -target bpf -c makes)"),
    Refusal("a truncated ELF header", "probe: p\nobject: build/short.o\n",
            "probe.yaml:2:9: object: 'build/short.o' (DIR/build/short.o) is a truncated ELF file (10 bytes, shorter than an ELF header)"),
    Refusal("a 32-bit ELF file", "probe: p\nobject: build/elf32.o\n",
            "probe.yaml:2:9: object: 'build/elf32.o' (DIR/build/elf32.o) is a 32-bit ELF file; BPF objects are 64-bit (clang -target bpf)"),
    Refusal("a big-endian BPF object", "probe: p\nobject: build/bpfeb.o\n",
            "probe.yaml:2:9: object: 'build/bpfeb.o' (DIR/build/bpfeb.o) is a big-endian ELF file (bpfeb); build it little-endian (clang -target bpf or bpfel)"),
    Refusal("an x86-64 object", "probe: p\nobject: build/x86.o\n",
            "probe.yaml:2:9: object: 'build/x86.o' (DIR/build/x86.o) is an ELF file for x86-64 (e_machine 62), not for BPF (e_machine 247)"),
    Refusal("an object for an unusual machine", "probe: p\nobject: build/odd.o\n",
            "probe.yaml:2:9: object: 'build/odd.o' (DIR/build/odd.o) is an ELF file for e_machine 999, not for BPF (e_machine 247)"),
]

private let listRefusals: [Refusal] = [
    Refusal("programs that is a string", head + "programs: count_exec\n",
            "probe.yaml:3:11: programs: expected a list of program names (lines starting '- ', or [a, b]), got the string 'count_exec'"),
    Refusal("no programs", head + "programs: []\n",
            "probe.yaml:3:11: programs: name at least one program, or leave programs out for all"),
    Refusal("a program listed twice", head + "programs:\n  - a\n  - a\n",
            "probe.yaml:5:5: programs[1]: 'a' is listed twice (first at line 4)"),
    Refusal("a program that is a mapping", head + "programs: [a, {b: c}]\n",
            "probe.yaml:3:15: programs[1]: expected a name, got a mapping"),
    Refusal("keepMaps with a list in it", head + "keepMaps: [[a]]\n",
            "probe.yaml:3:12: keepMaps[0]: expected a name, got a list"),
    Refusal("an empty map name", head + "keepMaps: ['']\n",
            "probe.yaml:3:12: keepMaps[0]: expected a name, got an empty string"),
]

private let globalsRefusals: [Refusal] = [
    Refusal("globals that is a list", head + "globals: [a]\n",
            "probe.yaml:3:10: globals: expected a mapping of variable names to values, got a list"),
    Refusal("a global past the unsigned 64-bit range", head + "globals: {x: 18446744073709551616}\n",
            "probe.yaml:3:14: globals.x: 18446744073709551616 is outside the 64-bit range (-9223372036854775808 to 18446744073709551615)"),
    Refusal("a global past the signed 64-bit range", head + "globals: {x: -9223372036854775809}\n",
            "probe.yaml:3:14: globals.x: -9223372036854775809 is outside the 64-bit range (-9223372036854775808 to 18446744073709551615)"),
    Refusal("a global with a leading zero", head + "globals:\n  mode: 0755\n",
            "probe.yaml:4:9: globals.mode: '0755' has a leading zero, which YAML 1.1 reads as octal: write 755 for decimal, or 0o755 for octal"),
    Refusal("a base-60 global", head + "globals: {t: 1:30}\n",
            "probe.yaml:3:14: globals.t: '1:30' is a base-60 number to YAML 1.1; write it in decimal, or quote it for a string"),
    Refusal("an infinite global", head + "globals: {x: .inf}\n",
            "probe.yaml:3:14: globals.x: '.inf' is not a finite number (JSON has no infinity or NaN)"),
    Refusal("a nested bad global", head + "globals:\n  x: {y: [1, .nan]}\n",
            "probe.yaml:4:14: globals.x.y[1]: '.nan' is not a finite number (JSON has no infinity or NaN)"),
    Refusal("a global with a binary tag", head + "globals: {x: !!binary aGk=}\n",
            "probe.yaml:3:14: globals.x: the tag tag:yaml.org,2002:binary is not supported here (only YAML's str, int, float, bool and null)"),
]

private let mapsRefusals: [Refusal] = [
    Refusal("maps that is a list", head + "maps: [a]\n",
            "probe.yaml:3:7: maps: expected a mapping of map names to settings ({maxEntries: N}), got a list"),
    Refusal("a size of 0", head + "maps: {pids: 0}\n",
            "probe.yaml:3:14: maps.pids.maxEntries: 0 is out of range (1 to 4294967295)"),
    Refusal("a size past 32 bits", head + "maps: {pids: 4294967296}\n",
            "probe.yaml:3:14: maps.pids.maxEntries: 4294967296 is out of range (1 to 4294967295)"),
    Refusal("a misspelt setting", head + "maps: {pids: {maxEntrys: 5}}\n",
            "probe.yaml:3:15: maps.pids.maxEntrys: unknown key; did you mean 'maxEntries'?"),
    Refusal("a map with no setting", head + "maps: {pids: {}}\n",
            "probe.yaml:3:14: maps.pids: set maxEntries, valueSize, numaNode or pinning, or leave the map out"),
    Refusal("a quoted value size", head + "maps: {pids: {valueSize: '8'}}\n",
            "probe.yaml:3:26: maps.pids.valueSize: expected a whole number, got the string '8'"),
    Refusal("a negative NUMA node", head + "maps: {pids: {numaNode: -1}}\n",
            "probe.yaml:3:25: maps.pids.numaNode: -1 is out of range (0 to 4294967295)"),
]

private let labelRefusals: [Refusal] = [
    Refusal("a reserved label", head + "labels:\n  bpfleet.io/spec: sha256:00\n",
            "probe.yaml:4:3: labels.bpfleet.io/spec: label keys starting 'bpfleet.io/' are bpfleet's own (bpfleet.io/spec holds the spec hash)"),
    Refusal("a reserved label in other case", head + "labels: {BPFLEET.IO/owner: me}\n",
            "probe.yaml:3:10: labels.BPFLEET.IO/owner: label keys starting 'bpfleet.io/' are bpfleet's own (bpfleet.io/spec holds the spec hash)"),
    Refusal("a label without a value", head + "labels:\n  team:\n",
            "probe.yaml:4:3: labels.team: a label needs a value (write '' for an empty one)"),
    Refusal("a label whose value is a list", head + "labels: {team: [a]}\n",
            "probe.yaml:3:16: labels.team: expected a label value (a string), got a list"),
    Refusal("labels that is a list", head + "labels: [a]\n",
            "probe.yaml:3:9: labels: expected a mapping of label names to values, got a list"),
]

private let attachRefusals: [Refusal] = [
    Refusal("attach that is a mapping", head + "attach: {program: a}\n",
            "probe.yaml:3:9: attach: expected a list of {program, target} (lines starting '- ', or [a, b]), got a mapping"),
    Refusal("an attach entry that is a string", head + "attach: [a]\n",
            "probe.yaml:3:10: attach[0]: expected a mapping {program: ..., target: {...}}, got the string 'a'"),
    Refusal("an attach entry without a program", head + "attach:\n  - target: {type: auto}\n",
            "probe.yaml:4:5: attach[0].program: missing: which of the probe's programs to attach"),
    Refusal("an attach entry without a target", head + "attach:\n  - program: a\n  - program: b\n",
            "probe.yaml:4:5: attach[0].target: missing: where to attach, e.g. {type: tracepoint, category: sched, name: sched_process_exec}"),
    Refusal("a program not among programs", head + "programs: [a]\nattach:\n  - program: b\n    target: {type: auto}\n",
            "probe.yaml:5:14: attach[0].program: 'b' is not among programs (a)"),
    Refusal("a target that is a string", head + "attach:\n  - program: a\n    target: tracepoint\n",
            "probe.yaml:5:13: attach[0].target: expected a mapping such as {type: tracepoint, category: sched, name: sched_process_exec}, got the string 'tracepoint'"),
    Refusal("a target without a type", head + "attach:\n  - program: a\n    target: {category: sched}\n",
            "probe.yaml:5:13: attach[0].target.type: missing: one of tracepoint, raw_tracepoint, tp_btf, uprobe, usdt, kprobe, fentry, fexit, xdp, tc, cgroup, perf_event, auto"),
    Refusal("a misspelt target type", head + "attach:\n  - program: a\n    target: {type: tracepiont, category: sched, name: x}\n",
            "probe.yaml:5:20: attach[0].target.type: unknown target type 'tracepiont'; did you mean 'tracepoint'?"),
    Refusal("an unknown target type", head + "attach:\n  - program: a\n    target: {type: socket}\n",
            "probe.yaml:5:20: attach[0].target.type: unknown target type 'socket' (one of: tracepoint, raw_tracepoint, tp_btf, uprobe, usdt, kprobe, fentry, fexit, xdp, tc, cgroup, perf_event, auto)"),
    Refusal("a target missing a field", head + "attach:\n  - program: a\n    target: {type: tracepoint, name: sched_process_exec}\n",
            "probe.yaml:5:13: attach[0].target.category: missing: a target of type tracepoint needs it"),
    Refusal("a target missing a field, in block style", head + "attach:\n  - program: a\n    target:\n      type: kprobe\n      retprobe: true\n",
            "probe.yaml:6:7: attach[0].target.function: missing: a target of type kprobe needs it"),
    Refusal("a target field misspelt", head + "attach:\n  - program: a\n    target: {type: tracepoint, categroy: sched, name: x}\n",
            "probe.yaml:5:32: attach[0].target.categroy: a target of type tracepoint has no field 'categroy'; did you mean 'category'?"),
    Refusal("a target field of another type", head + "attach:\n  - program: a\n    target: {type: tracepoint, category: sched, name: x, pid: 7}\n",
            "probe.yaml:5:58: attach[0].target.pid: a target of type tracepoint has no field 'pid' (its fields: category, name)"),
    Refusal("a field on auto", head + "attach:\n  - program: a\n    target: {type: auto, name: x}\n",
            "probe.yaml:5:26: attach[0].target.name: a target of type auto has no field 'name' (it has no field but type)"),
    Refusal("a wrong-typed priority", head + "attach:\n  - program: a\n    target:\n      type: tc\n      interface: veth0\n      direction: ingress\n      priority: high\n",
            "probe.yaml:9:17: attach[0].target.priority: expected a whole number from 0 to 4294967295, got the string 'high'"),
    Refusal("a priority out of range", head + "attach:\n  - program: a\n    target: {type: tc, interface: veth0, direction: ingress, priority: 4294967296}\n",
            "probe.yaml:5:72: attach[0].target.priority: 4294967296 is out of range: expected a whole number from 0 to 4294967295"),
    Refusal("a negative offset", head + "attach:\n  - program: a\n    target: {type: uprobe, binary: /bin/sh, offset: -1}\n",
            "probe.yaml:5:53: attach[0].target.offset: -1 is out of range: expected a whole number from 0 to 18446744073709551615"),
    Refusal("a pid past 32 bits", head + "attach:\n  - program: a\n    target: {type: usdt, binary: /bin/sh, provider: p, name: n, pid: 2147483648}\n",
            "probe.yaml:5:70: attach[0].target.pid: 2147483648 is out of range: expected a whole number from -2147483648 to 2147483647"),
    Refusal("a string where true or false goes", head + "attach:\n  - program: a\n    target: {type: kprobe, function: f, retprobe: 'yes'}\n",
            "probe.yaml:5:51: attach[0].target.retprobe: expected true or false, got the string 'yes'"),
    Refusal("a fraction where a whole number goes", head + "attach:\n  - program: a\n    target: {type: perf_event, event: cpu-clock, frequency: 99.5}\n",
            "probe.yaml:5:61: attach[0].target.frequency: expected a whole number from 0 to 18446744073709551615, got the number 99.5"),
    Refusal("null where a string goes", head + "attach:\n  - program: a\n    target: {type: raw_tracepoint, name: ~}\n",
            "probe.yaml:5:42: attach[0].target.name: expected a string, got null"),
    Refusal("a number where a string goes", head + "attach:\n  - program: a\n    target: {type: xdp, interface: 7}\n",
            "probe.yaml:5:36: attach[0].target.interface: expected a string, got the integer 7"),
    Refusal("the second entry is the one named", head + "attach:\n  - program: a\n    target: {type: auto}\n  - program: b\n    target: {type: xdp}\n",
            "probe.yaml:7:13: attach[1].target.interface: missing: a target of type xdp needs it"),
]

private let nodesRefusals: [Refusal] = [
    Refusal("nodes that is a list", head + "nodes: [web-1]\n",
            "probe.yaml:3:8: nodes: expected a mapping {selector: ..., names: [...]}, got a list"),
    Refusal("a selector that is not a string", head + "nodes:\n  selector: [role=web]\n",
            "probe.yaml:4:13: nodes.selector: expected a label selector string (role=web,zone!=b), got a list"),
    Refusal("an empty selector", head + "nodes: {selector: ''}\n",
            "probe.yaml:3:19: nodes.selector: expected a label selector string (role=web,zone!=b), got an empty string"),
    Refusal("names that is not a list", head + "nodes: {names: web-1}\n",
            "probe.yaml:3:16: nodes.names: expected a list of node names (lines starting '- ', or [a, b]), got the string 'web-1'"),
    Refusal("a name that is not a string", head + "nodes: {names: [web-1, {web: 2}]}\n",
            "probe.yaml:3:24: nodes.names[1]: expected a name, got a mapping"),
    Refusal("a name twice", head + "nodes: {names: [web-1, web-1]}\n",
            "probe.yaml:3:24: nodes.names[1]: 'web-1' is listed twice (first at line 3)"),
]

private let rolloutRefusals: [Refusal] = [
    Refusal("rollout that is a string", head + "rollout: fast\n",
            "probe.yaml:3:10: rollout: expected a mapping (key: value), got the string 'fast'"),
    Refusal("a negative canary", head + "rollout:\n  canary: -1\n",
            "probe.yaml:4:11: rollout.canary: -1 is not a canary size (0 for none, or a number of nodes)"),
    Refusal("a canary that is a word", head + "rollout: {canary: one}\n",
            "probe.yaml:3:19: rollout.canary: expected a whole number, got the string 'one'"),
    Refusal("a canary that is a fraction", head + "rollout: {canary: 1.5}\n",
            "probe.yaml:3:19: rollout.canary: expected a whole number, got the number 1.5"),
    Refusal("a quoted canary", head + "rollout: {canary: '1'}\n",
            "probe.yaml:3:19: rollout.canary: expected a whole number, got the string '1'"),
    Refusal("a batch of 0", head + "rollout: {batch: 0}\n",
            "probe.yaml:3:18: rollout.batch: 0 is not a batch size (a count of at least 1, or 1% to 100%)"),
    Refusal("a batch of 0%", head + "rollout: {batch: 0%}\n",
            "probe.yaml:3:18: rollout.batch: 0% is not a batch size (a count of at least 1, or 1% to 100%)"),
    Refusal("a batch over 100%", head + "rollout: {batch: 101%}\n",
            "probe.yaml:3:18: rollout.batch: 101% is not a batch size (a count of at least 1, or 1% to 100%)"),
    Refusal("a negative batch", head + "rollout: {batch: -2}\n",
            "probe.yaml:3:18: rollout.batch: -2 is not a batch size (a count of at least 1, or 1% to 100%)"),
    Refusal("a batch that is a word", head + "rollout: {batch: half}\n",
            "probe.yaml:3:18: rollout.batch: expected a node count (3) or a percentage of the selected nodes (25%), got the string 'half'"),
    Refusal("a fractional percentage", head + "rollout: {batch: 2.5%}\n",
            "probe.yaml:3:18: rollout.batch: expected a node count (3) or a percentage of the selected nodes (25%), got the string '2.5%'"),
    Refusal("negative maxFailures", head + "rollout:\n  maxFailures: -1\n",
            "probe.yaml:4:16: rollout.maxFailures: -1 is not a number of failures (0 or more)"),
    Refusal("a pause without a unit", head + "rollout: {pause: 5}\n",
            "probe.yaml:3:18: rollout.pause: '5' is not a duration: a whole number and a unit, ms, s or m (500ms, 5s, 2m)"),
    Refusal("a pause in hours", head + "rollout: {pause: 1h}\n",
            "probe.yaml:3:18: rollout.pause: '1h' is not a duration: a whole number and a unit, ms, s or m (500ms, 5s, 2m)"),
    Refusal("a pause in words", head + "rollout: {pause: 5 sec}\n",
            "probe.yaml:3:18: rollout.pause: '5 sec' is not a duration: a whole number and a unit, ms, s or m (500ms, 5s, 2m)"),
    Refusal("a negative pause", head + "rollout: {pause: -5s}\n",
            "probe.yaml:3:18: rollout.pause: '-5s' is not a duration: a whole number and a unit, ms, s or m (500ms, 5s, 2m)"),
    Refusal("a pause over a day", head + "rollout: {pause: 1441m}\n",
            "probe.yaml:3:18: rollout.pause: 1441m is longer than 24h"),
    Refusal("a pause past 64 bits", head + "rollout: {pause: 99999999999999999999s}\n",
            "probe.yaml:3:18: rollout.pause: 99999999999999999999s is longer than 24h"),
    Refusal("a misspelt onFailure", head + "rollout: {onFailure: rolback}\n",
            "probe.yaml:3:22: rollout.onFailure: expected stop or rollback, got 'rolback'; did you mean 'rollback'?"),
    Refusal("an unknown onFailure", head + "rollout: {onFailure: abort}\n",
            "probe.yaml:3:22: rollout.onFailure: expected stop or rollback, got 'abort'"),
]

private let metricsRefusals: [Refusal] = [
    Refusal("metrics that are not a list", head + "metrics: {map: calls}\n",
            "probe.yaml:3:10: metrics: expected a list of map exports (- map: ..., name: ..., kind: ...) (lines starting '- ', or [a, b]), got a mapping"),
    Refusal("an export without a map", head + "metrics:\n  - {name: calls_total, kind: counter}\n",
            "probe.yaml:4:5: metrics[0].map: missing: the map's name in the object"),
    Refusal("an unknown key in an export", head + "metrics:\n  - {map: calls, name: calls_total, kind: counter, labls: []}\n",
            "probe.yaml:4:52: metrics[0].labls: unknown key; did you mean 'labels'?"),
    Refusal("a kind that is none", head + "metrics:\n  - map: calls\n    name: calls_total\n    kind: summary\n",
            "probe.yaml:6:11: metrics[0].kind: 'summary' is not a kind (counter, gauge, histogram)"),
    Refusal("a counter not named _total", head + "metrics:\n  - {map: calls, name: calls, kind: counter}\n",
            "probe.yaml:4:24: metrics[0].name: a counter's name ends in _total ('calls_total')"),
    Refusal("a decoder that is none", head + "metrics:\n  - map: calls\n    name: calls_total\n    kind: counter\n    labels:\n      - {name: nr, field: nr, decoder: rot13}\n",
            "probe.yaml:8:40: metrics[0].labels[0].decoder: 'rot13' is not a decoder (ksym, ipv4, ipv6, syscall, cgroup, errno, static)"),
    Refusal("a static table keyed by a word", head + "metrics:\n  - map: calls\n    name: calls_total\n    kind: counter\n    labels:\n      - {name: nr, field: nr, decoder: static, values: {read: 0}}\n",
            "probe.yaml:8:57: metrics[0].labels[0].values.read: 'read' is not an integer (the field's value, in decimal)"),
    Refusal("a histogram without buckets", head + "metrics:\n  - {map: lat, name: lat_seconds, kind: histogram, value: slots}\n",
            "probe.yaml:4:5: metrics[0].buckets: a histogram needs buckets ({type: log2} or {type: linear, width: N})"),
    Refusal("a multiplier that is a word", head + "metrics:\n  - {map: lat, name: lat, kind: histogram, buckets: {type: log2, multiplier: micro}}\n",
            "probe.yaml:4:78: metrics[0].buckets.multiplier: expected a number (0.000001), got the string 'micro'"),
    Refusal("a name given twice", head + "metrics:\n  - {map: a, name: x, kind: gauge}\n  - {map: b, name: x, kind: gauge}\n",
            "probe.yaml:5:20: metrics[1].name: 'x' is exported twice by this probe"),
]

@Suite("probe manifest refusals")
struct ManifestErrorTests {
    let fixture: ManifestFixture

    init() throws {
        fixture = try ManifestFixture()
        try fixture.write("build/text.o", Array("not an object\n".utf8))
        try fixture.write("build/empty.o", [])
        try fixture.write("build/short.o", [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0, 0, 0])
        try fixture.write("build/elf32.o", ManifestFixture.elfHeader(elfClass: 1))
        try fixture.write("build/bpfeb.o", ManifestFixture.elfHeader(byteOrder: 2))
        try fixture.write("build/x86.o", ManifestFixture.elfHeader(machine: 62))
        try fixture.write("build/odd.o", ManifestFixture.elfHeader(machine: 999))
    }

    func check(_ refusal: Refusal) {
        let failure = fixture.error(refusal.yaml)
        #expect(failure?.description == refusal.expected.replacingOccurrences(of: "DIR", with: fixture.directory))
    }

    @Test(arguments: yamlRefusals) func yaml(_ refusal: Refusal) { check(refusal) }
    @Test(arguments: keyRefusals) func keys(_ refusal: Refusal) { check(refusal) }
    @Test(arguments: probeRefusals) func probeAndObject(_ refusal: Refusal) { check(refusal) }
    @Test(arguments: objectRefusals) func objectFile(_ refusal: Refusal) { check(refusal) }
    @Test(arguments: listRefusals) func lists(_ refusal: Refusal) { check(refusal) }
    @Test(arguments: globalsRefusals) func globals(_ refusal: Refusal) { check(refusal) }
    @Test(arguments: mapsRefusals) func maps(_ refusal: Refusal) { check(refusal) }
    @Test(arguments: labelRefusals) func labels(_ refusal: Refusal) { check(refusal) }
    @Test(arguments: attachRefusals) func attach(_ refusal: Refusal) { check(refusal) }
    @Test(arguments: nodesRefusals) func nodes(_ refusal: Refusal) { check(refusal) }
    @Test(arguments: rolloutRefusals) func rollout(_ refusal: Refusal) { check(refusal) }
    @Test(arguments: metricsRefusals) func metrics(_ refusal: Refusal) { check(refusal) }

    @Test("the error's parts: file, line, column, field, message")
    func parts() throws {
        let failure = try #require(fixture.error(head + "rollout:\n  maxFailures: -1\n"))
        #expect(failure == ManifestError(file: "probe.yaml", line: 4, column: 16, field: "rollout.maxFailures",
                                         "-1 is not a number of failures (0 or more)"))
    }

    @Test("a manifest file that cannot be read names only the file")
    func unreadableManifest() {
        #expect(throws: ManifestError(file: "/nonexistent/probe.yaml", line: nil, column: nil, field: nil,
                                      "cannot read the manifest: No such file or directory")) {
            try ProbeManifest.load(path: "/nonexistent/probe.yaml")
        }
    }

    @Test("an object without read permission", .enabled(if: getuid() != 0, "root reads any file"))
    func unreadableObject() throws {
        try fixture.write("build/secret.o", ManifestFixture.elfHeader())
        chmod(fixture.directory + "/build/secret.o", 0)
        #expect(fixture.error("probe: p\nobject: build/secret.o\n")?.description ==
            "probe.yaml:2:9: object: cannot read 'build/secret.o' (\(fixture.directory)/build/secret.o): permission denied")
    }

    @Test("a YAML mistake is reported before an object that is missing")
    func yamlFirst() {
        #expect(fixture.error("probe: p\nobject: build/nope.o\nrollout: {batch: 0}\n")?.field == "rollout.batch")
    }

    @Test("every target type is known to the manifest's field check")
    func everyTargetType() {
        #expect(Set(AttachTarget.fullSamples.map(\.type)) == Set(AttachTarget.allTypes))
        #expect(AttachTarget.fieldNames(ofType: "uprobe") == ["binary", "offset", "pid", "retprobe", "symbol", "type"])
        #expect(AttachTarget.fieldNames(ofType: "auto") == ["type"])
        #expect(AttachTarget.fieldNames(ofType: "socket") == nil)
    }

    @Test("did you mean: within two edits, case ignored, a swap is one edit")
    func suggestions() {
        #expect(KeySuggestion.closest(to: "progams", among: ProbeManifest.topKeys) == "programs")
        #expect(KeySuggestion.closest(to: "prgrams", among: ProbeManifest.topKeys) == "programs")
        #expect(KeySuggestion.closest(to: "porbe", among: ProbeManifest.topKeys) == "probe")
        #expect(KeySuggestion.closest(to: "KEEPMAPS", among: ProbeManifest.topKeys) == "keepMaps")
        #expect(KeySuggestion.closest(to: "prgms", among: ProbeManifest.topKeys) == nil)
        #expect(KeySuggestion.closest(to: "x", among: ["xdp", "tc"]) == nil)
        #expect(KeySuggestion.editDistance(Array("ab"), Array("ba")) == 1)
        #expect(KeySuggestion.editDistance(Array(""), Array("abc")) == 3)
        #expect(KeySuggestion.editDistance(Array("kitten"), Array("sitting")) == 3)
    }
}
