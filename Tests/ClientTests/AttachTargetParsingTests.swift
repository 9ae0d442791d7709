@testable import BpfleetClient
import ArgumentParser
import BpfleetShared
import Testing

private func target(_ flags: String...) throws -> AttachTarget {
    try ProbeAttachCommand.parse(["exec", "handle"] + flags).target.target()
}

@Suite("probe attach flags")
struct AttachTargetParsingTests {
    @Test("each target flag maps to its AttachTarget")
    func targets() throws {
        #expect(try target("--tracepoint", "sched:sched_process_exec") == .tracepoint(category: "sched", name: "sched_process_exec"))
        #expect(try target("--tracepoint", "syscalls/sys_enter_openat") == .tracepoint(category: "syscalls", name: "sys_enter_openat"))
        #expect(try target("--raw-tracepoint", "sys_enter") == .rawTracepoint(name: "sys_enter"))
        #expect(try target("--tp-btf", "sched_switch") == .tpBtf(name: "sched_switch"))
        #expect(try target("--uprobe", "/bin/bash:readline") ==
            .uprobe(binary: "/bin/bash", symbol: "readline", offset: nil, pid: nil, retprobe: false))
        #expect(try target("--uprobe", "/opt/a:b/app:0x1f0", "--pid", "42", "--retprobe") ==
            .uprobe(binary: "/opt/a:b/app", symbol: nil, offset: 0x1f0, pid: 42, retprobe: true))
        #expect(try target("--usdt", "/usr/bin/python3:python:function__entry", "--pid", "7") ==
            .usdt(binary: "/usr/bin/python3", provider: "python", name: "function__entry", pid: 7))
        #expect(try target("--kprobe", "do_sys_openat2") == .kprobe(function: "do_sys_openat2", retprobe: false))
        #expect(try target("--kprobe", "do_sys_openat2", "--retprobe") == .kprobe(function: "do_sys_openat2", retprobe: true))
        #expect(try target("--fentry", "tcp_connect") == .fentry(function: "tcp_connect"))
        #expect(try target("--fexit", "tcp_connect") == .fexit(function: "tcp_connect"))
        #expect(try target("--xdp", "veth0") == .xdp(interface: "veth0", mode: nil))
        #expect(try target("--xdp", "veth0", "--mode", "skb") == .xdp(interface: "veth0", mode: "skb"))
        #expect(try target("--tc", "veth0", "--direction", "egress", "--priority", "5") ==
            .tc(interface: "veth0", direction: "egress", priority: 5))
        #expect(try target("--cgroup", "/sys/fs/cgroup/web", "--attach-type", "cgroup_inet_ingress") ==
            .cgroup(path: "/sys/fs/cgroup/web", attachType: "cgroup_inet_ingress"))
        #expect(try target("--perf-event", "cpu-clock", "--frequency", "99") == .perfEvent(event: "cpu-clock", frequency: 99))
        #expect(try target("--auto") == .auto)
    }

    @Test("no target, or several, is a usage error")
    func exactlyOne() {
        #expect(throws: (any Error).self) { try target() }
        #expect(throws: (any Error).self) { try target("--kprobe", "f", "--xdp", "eth0") }
        #expect(throws: (any Error).self) { try target("--auto", "--tracepoint", "a:b") }
    }

    @Test("a modifier given to the wrong target, or a missing one, is a usage error")
    func modifiers() {
        #expect(throws: (any Error).self) { try target("--kprobe", "f", "--pid", "1") }
        #expect(throws: (any Error).self) { try target("--xdp", "eth0", "--retprobe") }
        #expect(throws: (any Error).self) { try target("--tc", "eth0") }
        #expect(throws: (any Error).self) { try target("--tc", "eth0", "--direction", "sideways") }
        #expect(throws: (any Error).self) { try target("--cgroup", "/sys/fs/cgroup") }
        #expect(throws: (any Error).self) { try target("--perf-event", "cpu-clock") }
        #expect(throws: (any Error).self) { try target("--kprobe", "f", "--mode", "skb") }
    }

    @Test("malformed target values are usage errors")
    func malformedValues() {
        #expect(throws: (any Error).self) { try target("--tracepoint", "sched") }
        #expect(throws: (any Error).self) { try target("--tracepoint", ":name") }
        #expect(throws: (any Error).self) { try target("--uprobe", "readline") }
        #expect(throws: (any Error).self) { try target("--usdt", "/bin/x:provider") }
        #expect(throws: (any Error).self) { try target("--kprobe", "") }
    }

    @Test("the usage error says what is wrong")
    func messages() {
        #expect(ProbeAttachCommand.message(for: ValidationError("x")) == "x")
        do {
            _ = try ProbeAttachCommand.parse(["exec", "handle", "--kprobe", "f", "--xdp", "eth0"])
            Issue.record("expected a usage error")
        } catch {
            #expect(ProbeAttachCommand.message(for: error) == "give only one attach target, not --kprobe and --xdp")
        }
    }
}
