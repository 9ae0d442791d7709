@testable import BpfleetServer
import BpfleetShared
import CLibBPF
import Testing

@Suite("attach target tables")
struct AttachTargetTableTests {
    @Test("cgroup attach types by section suffix and by libbpf's name")
    func cgroupAttachTypes() throws {
        let egress = try #require(CgroupAttachType.named("egress"))
        #expect(egress.attachType == BPF_CGROUP_INET_EGRESS)
        #expect(egress.programType == BPF_PROG_TYPE_CGROUP_SKB)
        #expect(CgroupAttachType.named("cgroup_inet_egress")?.name == "egress")
        #expect(CgroupAttachType.named("connect4")?.programType == BPF_PROG_TYPE_CGROUP_SOCK_ADDR)
        #expect(CgroupAttachType.named("sideways") == nil)
        #expect(CgroupAttachType.name(of: BPF_CGROUP_INET_SOCK_CREATE) == "sock_create")
        #expect(Set(CgroupAttachType.names).count == CgroupAttachType.all.count)
    }

    @Test("perf events by perf's names and aliases")
    func perfEvents() {
        #expect(PerfEventKind.named("cpu-clock") == PerfEventKind(name: "cpu-clock", type: PerfEventKind.software, config: 0))
        #expect(PerfEventKind.named("cpu-cycles")?.name == "cycles")
        #expect(PerfEventKind.named("cycles")?.isHardware == true)
        #expect(PerfEventKind.named("page-faults")?.isHardware == false)
        #expect(PerfEventKind.named("bogus") == nil)
    }

    @Test("the contract's lists of cgroup hooks and perf events are the server's")
    func contractNames() {
        let libbpfNames = CgroupAttachType.all.compactMap { libbpf_bpf_attach_type_str($0.attachType).map { String(cString: $0) } }
        #expect(AttachTarget.cgroupAttachTypeNames == CgroupAttachType.names + libbpfNames)
        #expect(AttachTarget.cgroupAttachTypeNames.allSatisfy { CgroupAttachType.named($0) != nil })
        #expect(Set(AttachTarget.perfEventNames) == Set(PerfEventKind.all.map(\.name) + PerfEventKind.aliases.keys))
    }

    @Test("the feature an auto-attached program needs comes from its section")
    func sectionFeatures() {
        #expect(Attacher.sectionFeature(type: BPF_PROG_TYPE_KPROBE, section: "kprobe/do_unlinkat") == "kprobe")
        #expect(Attacher.sectionFeature(type: BPF_PROG_TYPE_KPROBE, section: "uprobe/bin/true:main") == "uprobe")
        #expect(Attacher.sectionFeature(type: BPF_PROG_TYPE_KPROBE, section: "uretprobe") == "uprobe")
        #expect(Attacher.sectionFeature(type: BPF_PROG_TYPE_KPROBE, section: "usdt/x") == "usdt")
        #expect(Attacher.sectionFeature(type: BPF_PROG_TYPE_TRACING, section: "fentry/do_unlinkat") == "fentry")
        #expect(Attacher.sectionFeature(type: BPF_PROG_TYPE_TRACING, section: "fexit/do_unlinkat") == "fexit")
        #expect(Attacher.sectionFeature(type: BPF_PROG_TYPE_TRACING, section: "tp_btf/sched_switch") == nil)
        #expect(Attacher.sectionFeature(type: BPF_PROG_TYPE_LSM, section: "lsm/file_open") == "lsm")
        #expect(Attacher.sectionFeature(type: BPF_PROG_TYPE_XDP, section: "xdp") == nil)
    }

    @Test("libbpf option sizes end at the last field libbpf knows")
    func optionSizes() {
        #expect(libbpfOptionsSize(\bpf_tc_hook.parent) == 20)
        #expect(libbpfOptionsSize(\bpf_tc_opts.priority) == 28)
        #expect(libbpfOptionsSize(\bpf_kprobe_opts.retprobe) == 25)
    }
}
