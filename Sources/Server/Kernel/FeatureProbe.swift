import CBPFSupport
import CLibBPF
import Glibc

/// The start-up probes behind KernelFeatures: each tries the smallest real
/// thing (load a two-instruction program and attach it, query a hook), so
/// what is reported is what the kernel does, not what its config claims.
enum FeatureProbe {
    /// `r0 = 0; exit`: a program every hook accepts and none notices.
    private static let returnZero: [UInt64] = [0x0000_0000_0000_00b7, 0x0000_0000_0000_0095]

    /// nil when an fentry program loads and attaches; otherwise why not.
    static func fentry() -> String? {
        trampoline(type: BPF_PROG_TYPE_TRACING, attachType: BPF_TRACE_FENTRY,
                   functions: ["bpf_fentry_test1", "do_unlinkat", "vfs_read"], what: "fentry")
    }

    /// nil when a BPF LSM program loads and attaches; otherwise why not.
    static func lsm() -> String? {
        trampoline(type: BPF_PROG_TYPE_LSM, attachType: BPF_LSM_MAC, functions: ["bpf_lsm_file_open"], what: "lsm")
    }

    private static func trampoline(type: bpf_prog_type, attachType: bpf_attach_type, functions: [String], what: String) -> String? {
        guard let btf = btf__load_vmlinux_btf() else { return "no kernel BTF" }
        defer { btf__free(btf) }
        guard let id = functions.lazy.map({ btf__find_by_name_kind(btf, $0, 12 /* BTF_KIND_FUNC */) }).first(where: { $0 > 0 }) else {
            return "no \(functions.joined(separator: "/")) in the kernel's BTF"
        }
        var opts = bpf_prog_load_opts()
        opts.sz = libbpfOptionsSize(\bpf_prog_load_opts.log_buf)
        opts.expected_attach_type = attachType
        opts.attach_btf_id = UInt32(id)
        let program = returnZero.withUnsafeBytes { raw in
            bpf_prog_load(type, "bpfleet_probe", "GPL", raw.baseAddress!.assumingMemoryBound(to: bpf_insn.self), 2, &opts)
        }
        guard program >= 0 else {
            let code = -program
            return "loading a \(what) program failed: \(errnoText(code)) (\(errnoName(code)))"
        }
        let loaded = OwnedDescriptor(program)
        let link = bpf_raw_tracepoint_open(nil, loaded.fd)
        guard link >= 0 else {
            let code = -link
            return "attaching a \(what) program failed: \(errnoText(code)) (\(errnoName(code)))"
        }
        _ = OwnedDescriptor(link)  // detached again at once
        return nil
    }

    /// Whether the kernel knows tcx hooks: a query of the loopback's tcx
    /// ingress answers (with nothing attached) only where it does.
    static func tcx() -> Bool {
        var flags: UInt32 = 0
        var count: UInt32 = 0
        let loopback = Int32(if_nametoindex("lo"))
        guard loopback > 0 else { return false }
        return bpf_prog_query(loopback, BPFAttachTypes.tcxIngress, 0, &flags, nil, &count) == 0
    }

    /// Whether a hardware counter (cycles) can be opened; VMs often have none.
    static func hardwarePerfEvents() -> Bool {
        let fd = bpfleet_perf_event_open(PerfEventKind.hardware, 0, 1, 0)  // cycles
        guard fd >= 0 else { return false }
        _ = OwnedDescriptor(fd)  // closed at once
        return true
    }
}

/// Attach types newer than the kernel headers bpfleetd builds against
/// (linux-libc-dev 6.1 on Debian 12); the values are the kernel ABI.
enum BPFAttachTypes {
    static let tcxIngress = bpf_attach_type(rawValue: 46)
    static let tcxEgress = bpf_attach_type(rawValue: 47)
}
