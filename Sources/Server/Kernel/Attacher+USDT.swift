import BpfleetShared
import CBPFSupport
import CLibBPF
import Foundation

/// USDT for a program held by its descriptor (Attacher.attach): what
/// libbpf's USDT support does for a program it loaded, done by bpfleetd.
///
/// 1. The call sites of `provider:name` are read from the binary's
///    systemtap notes (`.note.stapsdt`): each site's file offset, its
///    semaphore's, and how its arguments are found (`-4@%eax 8@-8(%rbp)`).
/// 2. Each site's argument spec is written into the object's
///    `__bpf_usdt_specs` map, which `bpf_usdt_arg()` reads, under a spec
///    id: an entry holding the same spec is shared, else the highest free
///    (all-zero) entry is taken (libbpf takes ids from 0 up).
/// 3. Each site gets a uprobe perf event (the kernel counts the semaphore
///    while it exists) and a `BPF_PERF_EVENT` link whose BPF cookie is the
///    spec id. The links pin as `links/ID/site0`, `site1`, ... as libbpf's
///    do, so adoption takes both kinds alike.
extension Attacher {
    /// The spec map of a libbpf 1.1 USDT program's object.
    static let usdtSpecsMap = "__bpf_usdt_specs"
    /// Call sites of one probe one attach takes at most.
    static let maxUSDTSites = 4096

    func attachUSDT(_ program: AttachProgram, binary: String, provider: String, probe: String, pid: Int32?,
                    specs: MapIO?, target: AttachTarget) throws(KernelError) -> BPFLink {
        try require(program.type, [BPF_PROG_TYPE_KPROBE], program: program.name, target: target)
        try checkUSDT(binary: binary, provider: provider, probe: probe, pid: pid)
        #if !arch(x86_64)
        throw .unsupported(feature: "bpfleetd:usdt-arguments", message: "reading USDT argument specs is implemented for x86-64 only")
        #else
        guard let specs, specs.type == BPF_MAP_TYPE_ARRAY, specs.keySize == 4, specs.valueSize == USDTSpec.size else {
            throw failure(EINVAL, program, target: target,
                          message: "program '\(program.name)' is not a libbpf USDT program: its object has no \(Self.usdtSpecsMap) map of libbpf 1.1's layout (an array of \(USDTSpec.size)-byte specs)")
        }
        let path = try resolvedPath(of: binary)
        let sites = try usdtSites(path: path, binary: binary, provider: provider, probe: probe, program: program, target: target)

        var parts: [(name: String, attachment: Attachment)] = []
        // Dropping what was made detaches it (BPFLink owns the links).
        func undo() {
            if !parts.isEmpty { _ = BPFLink(parts: parts) }
        }
        for site in sites {
            let spec: USDTSpec
            switch USDTSpec.parseX86(site.arguments) {
            case .success(let parsed): spec = parsed
            case .failure(let problem):
                undo()
                throw failure(EINVAL, program, target: target,
                              message: "\(binary): USDT probe \(provider):\(probe) has an argument bpfleetd cannot read: '\(problem.argument)' (\(problem.reason))")
            }
            let specID: UInt32
            do throws(KernelError) {
                specID = try Self.specID(for: spec.encoded, in: specs)
            } catch {
                undo()
                throw error
            }
            let perfFD = bpfleet_perf_event_open_usdt(path, site.offset, site.semaphore, pid ?? -1)
            guard perfFD >= 0 else {
                let code = currentErrno()
                undo()
                if code == EOPNOTSUPP {
                    throw .unsupported(feature: "uprobe PMU", message: "this kernel has no uprobe perf event source with reference counters (/sys/bus/event_source/devices/uprobe)")
                }
                throw failure(code, program, target: target)
            }
            var opts = bpf_link_create_opts()
            opts.sz = MemoryLayout<bpf_link_create_opts>.size
            opts.perf_event.bpf_cookie = UInt64(specID)
            // The kernel link holds its own reference to the event.
            let perf = OwnedDescriptor(perfFD)
            let link = bpf_link_create(program.fd, perf.fd, BPF_PERF_EVENT, &opts)
            guard link >= 0 else {
                undo()
                throw failure(-link, program, target: target)
            }
            parts.append(("site\(parts.count)", .descriptor(link)))
        }
        return BPFLink(parts: parts, pinAsDirectory: true)
        #endif
    }

    struct USDTSite {
        var offset: UInt64
        var semaphore: UInt64
        var arguments: String
    }

    private func usdtSites(path: String, binary: String, provider: String, probe: String, program: AttachProgram,
                           target: AttachTarget) throws(KernelError) -> [USDTSite] {
        var capacity = 64
        while true {
            var buffer = [bpfleet_usdt_site](repeating: bpfleet_usdt_site(), count: capacity)
            let found = Int(bpfleet_usdt_sites(path, provider, probe, &buffer, Int32(capacity)))
            if found < 0 {
                let code = Int32(-found)
                let reason = code == ENOENT ? "no such file" : code == ERANGE ? "a USDT note points outside the file's loadable segments" : "not an ELF file with readable USDT notes"
                throw failure(code, program, target: target, message: "\(binary): \(reason)")
            }
            if found == 0 {
                throw failure(ENOENT, program, target: target, message: "\(binary) has no USDT probe \(provider):\(probe)")
            }
            if found > Self.maxUSDTSites {
                throw .limitExceeded(limit: "usdt sites", value: Self.maxUSDTSites, message: "\(binary) has \(found) call sites of \(provider):\(probe), more than the \(Self.maxUSDTSites) one attach takes")
            }
            if found <= capacity {
                return buffer.prefix(found).map { site in
                    let arguments = withUnsafeBytes(of: site.args) { raw in
                        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                    }
                    return USDTSite(offset: site.offset, semaphore: site.semaphore, arguments: arguments)
                }
            }
            capacity = found
        }
    }

    /// The id under which `spec` is in the spec map: an entry that holds
    /// it already, else the highest all-zero one, written now.
    static func specID(for spec: [UInt8], in map: MapIO) throws(KernelError) -> UInt32 {
        let count = min(map.maxEntries, 1 << 16)
        var free: UInt32?
        for id in stride(from: count, to: 0, by: -1).map({ UInt32($0 - 1) }) {
            let key = withUnsafeBytes(of: id.littleEndian) { Array($0) }
            let value = try map.lookup(key) ?? []
            if value == spec { return id }
            if free == nil, value.allSatisfy({ $0 == 0 }) { free = id }
        }
        guard let free else {
            throw .limitExceeded(limit: "usdt specs", value: Int(count), message: "the object's \(usdtSpecsMap) map is full (\(count) argument specs)")
        }
        try map.update(withUnsafeBytes(of: free.littleEndian) { Array($0) }, spec, flags: 0)
        return free
    }
}
