@testable import BpfleetClient
import ArgumentParser
import BpfleetShared
import Testing

// asyncParse: the probe and program arguments complete from the nodes,
// asynchronously, which a synchronous parse refuses.
private func target(_ flags: String...) async throws -> AttachTarget {
    try await ProbeAttachCommand.asyncParse(["exec", "handle"] + flags).target.target()
}

@Suite("probe attach flags")
struct AttachTargetParsingTests {
    @Test("each target flag maps to its AttachTarget")
    func targets() async throws {
        #expect(try await target("--tracepoint", "sched:sched_process_exec") == .tracepoint(category: "sched", name: "sched_process_exec"))
        #expect(try await target("--tracepoint", "syscalls/sys_enter_openat") == .tracepoint(category: "syscalls", name: "sys_enter_openat"))
        #expect(try await target("--raw-tracepoint", "sys_enter") == .rawTracepoint(name: "sys_enter"))
        #expect(try await target("--tp-btf", "sched_switch") == .tpBtf(name: "sched_switch"))
        #expect(try await target("--uprobe", "/bin/bash:readline") ==
            .uprobe(binary: "/bin/bash", symbol: "readline", offset: nil, pid: nil, retprobe: false))
        #expect(try await target("--uprobe", "/opt/a:b/app:0x1f0", "--pid", "42", "--retprobe") ==
            .uprobe(binary: "/opt/a:b/app", symbol: nil, offset: 0x1f0, pid: 42, retprobe: true))
        #expect(try await target("--usdt", "/usr/bin/python3:python:function__entry", "--pid", "7") ==
            .usdt(binary: "/usr/bin/python3", provider: "python", name: "function__entry", pid: 7))
        #expect(try await target("--kprobe", "do_sys_openat2") == .kprobe(function: "do_sys_openat2", retprobe: false))
        #expect(try await target("--kprobe", "do_sys_openat2", "--retprobe") == .kprobe(function: "do_sys_openat2", retprobe: true))
        #expect(try await target("--fentry", "tcp_connect") == .fentry(function: "tcp_connect"))
        #expect(try await target("--fexit", "tcp_connect") == .fexit(function: "tcp_connect"))
        #expect(try await target("--xdp", "veth0") == .xdp(interface: "veth0", mode: nil))
        #expect(try await target("--xdp", "veth0", "--mode", "skb") == .xdp(interface: "veth0", mode: "skb"))
        #expect(try await target("--tc", "veth0", "--direction", "egress", "--priority", "5") ==
            .tc(interface: "veth0", direction: "egress", priority: 5))
        #expect(try await target("--cgroup", "/sys/fs/cgroup/web", "--attach-type", "cgroup_inet_ingress") ==
            .cgroup(path: "/sys/fs/cgroup/web", attachType: "cgroup_inet_ingress"))
        #expect(try await target("--perf-event", "cpu-clock", "--frequency", "99") == .perfEvent(event: "cpu-clock", frequency: 99))
        #expect(try await target("--auto") == .auto)
    }

    @Test("no target, or several, is a usage error")
    func exactlyOne() async {
        await #expect(throws: (any Error).self) { try await target() }
        await #expect(throws: (any Error).self) { try await target("--kprobe", "f", "--xdp", "eth0") }
        await #expect(throws: (any Error).self) { try await target("--auto", "--tracepoint", "a:b") }
    }

    @Test("a modifier given to the wrong target, or a missing one, is a usage error")
    func modifiers() async {
        await #expect(throws: (any Error).self) { try await target("--kprobe", "f", "--pid", "1") }
        await #expect(throws: (any Error).self) { try await target("--xdp", "eth0", "--retprobe") }
        await #expect(throws: (any Error).self) { try await target("--tc", "eth0") }
        await #expect(throws: (any Error).self) { try await target("--tc", "eth0", "--direction", "sideways") }
        await #expect(throws: (any Error).self) { try await target("--cgroup", "/sys/fs/cgroup") }
        await #expect(throws: (any Error).self) { try await target("--perf-event", "cpu-clock") }
        await #expect(throws: (any Error).self) { try await target("--kprobe", "f", "--mode", "skb") }
    }

    @Test("malformed target values are usage errors")
    func malformedValues() async {
        await #expect(throws: (any Error).self) { try await target("--tracepoint", "sched") }
        await #expect(throws: (any Error).self) { try await target("--tracepoint", ":name") }
        await #expect(throws: (any Error).self) { try await target("--uprobe", "readline") }
        await #expect(throws: (any Error).self) { try await target("--usdt", "/bin/x:provider") }
        await #expect(throws: (any Error).self) { try await target("--kprobe", "") }
    }

    @Test("the usage error says what is wrong")
    func messages() async {
        #expect(ProbeAttachCommand.message(for: ValidationError("x")) == "x")
        do {
            _ = try await ProbeAttachCommand.asyncParse(["exec", "handle", "--kprobe", "f", "--xdp", "eth0"])
            Issue.record("expected a usage error")
        } catch {
            #expect(ProbeAttachCommand.message(for: error) == "give only one attach target, not --kprobe and --xdp")
        }
    }
}
