import CLibBPF

/// The `attachType` of a `cgroup` target: the hook in the cgroup, named as
/// the suffix of libbpf's section name for it (`cgroup_skb/egress` →
/// `egress`, `cgroup/connect4` → `connect4`), and the program type it takes.
/// libbpf's own attach type names (`cgroup_inet_egress`, as bpftool prints
/// them) are accepted too.
struct CgroupAttachType: Sendable {
    var name: String
    var attachType: bpf_attach_type
    var programType: bpf_prog_type

    static let all: [CgroupAttachType] = [
        .init(name: "ingress", attachType: BPF_CGROUP_INET_INGRESS, programType: BPF_PROG_TYPE_CGROUP_SKB),
        .init(name: "egress", attachType: BPF_CGROUP_INET_EGRESS, programType: BPF_PROG_TYPE_CGROUP_SKB),
        .init(name: "sock_create", attachType: BPF_CGROUP_INET_SOCK_CREATE, programType: BPF_PROG_TYPE_CGROUP_SOCK),
        .init(name: "sock_release", attachType: BPF_CGROUP_INET_SOCK_RELEASE, programType: BPF_PROG_TYPE_CGROUP_SOCK),
        .init(name: "post_bind4", attachType: BPF_CGROUP_INET4_POST_BIND, programType: BPF_PROG_TYPE_CGROUP_SOCK),
        .init(name: "post_bind6", attachType: BPF_CGROUP_INET6_POST_BIND, programType: BPF_PROG_TYPE_CGROUP_SOCK),
        .init(name: "bind4", attachType: BPF_CGROUP_INET4_BIND, programType: BPF_PROG_TYPE_CGROUP_SOCK_ADDR),
        .init(name: "bind6", attachType: BPF_CGROUP_INET6_BIND, programType: BPF_PROG_TYPE_CGROUP_SOCK_ADDR),
        .init(name: "connect4", attachType: BPF_CGROUP_INET4_CONNECT, programType: BPF_PROG_TYPE_CGROUP_SOCK_ADDR),
        .init(name: "connect6", attachType: BPF_CGROUP_INET6_CONNECT, programType: BPF_PROG_TYPE_CGROUP_SOCK_ADDR),
        .init(name: "getpeername4", attachType: BPF_CGROUP_INET4_GETPEERNAME, programType: BPF_PROG_TYPE_CGROUP_SOCK_ADDR),
        .init(name: "getpeername6", attachType: BPF_CGROUP_INET6_GETPEERNAME, programType: BPF_PROG_TYPE_CGROUP_SOCK_ADDR),
        .init(name: "getsockname4", attachType: BPF_CGROUP_INET4_GETSOCKNAME, programType: BPF_PROG_TYPE_CGROUP_SOCK_ADDR),
        .init(name: "getsockname6", attachType: BPF_CGROUP_INET6_GETSOCKNAME, programType: BPF_PROG_TYPE_CGROUP_SOCK_ADDR),
        .init(name: "sendmsg4", attachType: BPF_CGROUP_UDP4_SENDMSG, programType: BPF_PROG_TYPE_CGROUP_SOCK_ADDR),
        .init(name: "sendmsg6", attachType: BPF_CGROUP_UDP6_SENDMSG, programType: BPF_PROG_TYPE_CGROUP_SOCK_ADDR),
        .init(name: "recvmsg4", attachType: BPF_CGROUP_UDP4_RECVMSG, programType: BPF_PROG_TYPE_CGROUP_SOCK_ADDR),
        .init(name: "recvmsg6", attachType: BPF_CGROUP_UDP6_RECVMSG, programType: BPF_PROG_TYPE_CGROUP_SOCK_ADDR),
        .init(name: "sock_ops", attachType: BPF_CGROUP_SOCK_OPS, programType: BPF_PROG_TYPE_SOCK_OPS),
        .init(name: "device", attachType: BPF_CGROUP_DEVICE, programType: BPF_PROG_TYPE_CGROUP_DEVICE),
        .init(name: "sysctl", attachType: BPF_CGROUP_SYSCTL, programType: BPF_PROG_TYPE_CGROUP_SYSCTL),
        .init(name: "getsockopt", attachType: BPF_CGROUP_GETSOCKOPT, programType: BPF_PROG_TYPE_CGROUP_SOCKOPT),
        .init(name: "setsockopt", attachType: BPF_CGROUP_SETSOCKOPT, programType: BPF_PROG_TYPE_CGROUP_SOCKOPT),
    ]

    static var names: [String] { all.map(\.name) }

    static func named(_ name: String) -> CgroupAttachType? {
        if let match = all.first(where: { $0.name == name }) { return match }
        return all.first { type in libbpf_bpf_attach_type_str(type.attachType).map { String(cString: $0) } == name }
    }

    /// The wire name of a kernel attach type, for messages.
    static func name(of attachType: bpf_attach_type) -> String {
        all.first { $0.attachType == attachType }?.name
            ?? libbpf_bpf_attach_type_str(attachType).map { String(cString: $0) } ?? "attach type \(attachType.rawValue)"
    }
}
