import BpfleetShared
import Foundation
import TestSupport
import Testing

/// `auto` on sections as public tools write them (section_targets): a
/// uprobe on a library by its bare name is found on the node and counts
/// exactly; sections whose binary means something only to the tool's own
/// process, or that name what the node lacks, are refused naming it.
@Suite(.requiresKernel)
struct SectionTargetTests {
    func attachError(_ client: LineClient, _ program: String) throws -> ResponseError {
        try client.callError("probe.attach", ["probe": "sections", "program": .string(program), "target": ["type": "auto"]])
    }

    @Test func aLibraryNamedAsLibbpfNamesItIsFoundOnTheNode() async throws {
        try await withServer { server in
            let client = try server.client()
            try client.load("section_targets", as: "sections", globals: ["target_tgid": .int(Int64(getpid()))])
            let link = try client.call("probe.attach", ["probe": "sections", "program": "count_getppid", "target": ["type": "auto"]])
            #expect(link["target"] == ["type": "auto"])
            for _ in 0..<100 { _ = getppid() }
            #expect(try client.counter("sections", "getppid_calls", 0) == 100)
            try client.call("probe.unload", ["probe": "sections"])
            #expect(try Bpftool.isGone("link", id: try #require(link["id"]?.uint64Value).asUInt32))
            #expect(server.pins().isEmpty)
        }
    }

    @Test func sectionsThatNameWhatANodeCannotUseAreRefusedNamingIt() async throws {
        try await withServer { server in
            let client = try server.client()
            try client.load("section_targets", as: "sections")

            let me = try attachError(client, "probe_self")
            #expect(me.code == .invalidParams)
            #expect(me.message == "section 'uprobe//proc/self/exe:uprobed_add' of program 'probe_self' names the binary '/proc/self/exe', which on a node is bpfleetd itself; give the target with the binary's absolute path: {type: uprobe, binary: /path/to/program, symbol: uprobed_add}")
            #expect(me.data == ["field": "target", "section": "uprobe//proc/self/exe:uprobed_add"])

            let relative = try attachError(client, "probe_relative")
            #expect(relative.code == .invalidParams)
            #expect(relative.message == "section 'uretprobe/./build/app:main' of program 'probe_relative' names the relative path './build/app', which means nothing to a remote node; give the target with the binary's absolute path: {type: uprobe, retprobe: true, binary: /path/to/program, symbol: main}")

            let nowhere = try attachError(client, "probe_nowhere")
            #expect(nowhere.code == .invalidParams)
            #expect(nowhere.message == "target.binary: no binary libbpfleet-nowhere.so.1 in PATH or the library directories on this node")
            #expect(nowhere.data == ["field": "target.binary", "binary": "libbpfleet-nowhere.so.1"])

            let tracepoint = try attachError(client, "on_nothing")
            #expect(tracepoint.code == .attachFailed)
            #expect(tracepoint.message == "tracepoint sched/bpfleet_no_such_tracepoint does not exist on this kernel")
            #expect(tracepoint.data?["errnoName"] == "ENOENT")

            // Nothing was attached; the probe is as it was.
            #expect(try client.call("probe.get", ["probe": "sections"])["links"] == [])
            try client.call("probe.unload", ["probe": "sections"])
            #expect(server.pins().isEmpty)
        }
    }
}

/// A load that fails names the step and its subject: the map the kernel
/// would not create, the kernel function or tracepoint a section names
/// that this kernel lacks; and leaves nothing.
@Suite(.requiresKernel)
struct LoadStepFailureTests {
    @Test func aMapTheKernelWillNotCreateIsNamed() async throws {
        try await withServer { server in
            let client = try server.client()
            let error = try client.callError("probe.load", ["name": "bad", "objectId": .string(try client.upload("bad_map"))])
            #expect(error.code == .kernelError)
            #expect(error.message == "the kernel could not create map 'keyless': Invalid argument (EINVAL): the kernel refused its type, sizes or flags")
            #expect(error.data?["map"] == "keyless")
            #expect(error.data?["operation"] == "create map")
            #expect(error.data?["errnoName"] == "EINVAL")
            #expect(error.data?["libbpf"]?.stringValue?.contains("map 'keyless': failed to create") == true)
            #expect(server.pins() == [])
            #expect(try client.call("probe.list")["probes"] == [])
        }
    }

    @Test func aSectionNamingWhatTheKernelLacksIsNamed() async throws {
        try await withServer { server in
            let client = try server.client()
            let error = try client.callError("probe.load", ["name": "nothing", "objectId": .string(try client.upload("no_such_function"))])
            #expect(error.code == .unsupported)
            #expect(error.message == "program 'on_nothing_btf' (section 'tp_btf/bpfleet_no_such_tracepoint') attaches to 'bpfleet_no_such_tracepoint', which this kernel does not have (not in its BTF)")
            #expect(error.data?["feature"] == "bpfleet_no_such_tracepoint")
            #expect(error.data?["program"] == "on_nothing_btf")
            #expect(server.pins() == [])
            #expect(try client.call("probe.list")["probes"] == [])
        }
    }
}
