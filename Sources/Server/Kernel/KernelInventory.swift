import BpfleetShared
import CBPFSupport
import CLibBPF
import Foundation
import Glibc

/// Every program, map and link in the kernel, whoever made them: what
/// `node.programs`, `node.maps` and `node.links` answer. Read by walking
/// the kernel's id spaces (`BPF_*_GET_NEXT_ID`), as bpftool does; an
/// object freed between its id and its descriptor is skipped.
enum KernelInventory {
    /// The bpfleet probes' objects by kernel id.
    struct Owners: Sendable {
        var programs: [UInt32: ProbeOwner] = [:]
        var maps: [UInt32: ProbeOwner] = [:]
        var links: [UInt32: ProbeOwner] = [:]
    }

    enum Kind { case program, map, link }

    /// Ids of one kind, lowest first, at most `limit`; `more` when the
    /// kernel holds more.
    static func ids(_ kind: Kind, limit: Int) -> (ids: [UInt32], more: Bool) {
        var ids: [UInt32] = []
        var current: UInt32 = 0
        while true {
            var next: UInt32 = 0
            let rc: Int32 = switch kind {
            case .program: bpf_prog_get_next_id(current, &next)
            case .map: bpf_map_get_next_id(current, &next)
            case .link: bpf_link_get_next_id(current, &next)
            }
            guard rc == 0 else { break }
            if ids.count == limit { return (ids, true) }
            ids.append(next)
            current = next
        }
        return (ids, false)
    }

    static func open(_ kind: Kind, id: UInt32) -> OwnedDescriptor? {
        let fd: Int32 = switch kind {
        case .program: bpf_prog_get_fd_by_id(id)
        case .map: bpf_map_get_fd_by_id(id)
        case .link: bpf_link_get_fd_by_id(id)
        }
        return fd >= 0 ? OwnedDescriptor(fd) : nil
    }

    /// The wall-clock time of the boot, to turn the kernel's
    /// since-boot load times into dates.
    static func bootTime() -> Date {
        var real = timespec()
        var boot = timespec()
        clock_gettime(CLOCK_REALTIME, &real)
        clock_gettime(CLOCK_BOOTTIME, &boot)
        let seconds = Double(real.tv_sec - boot.tv_sec) + Double(real.tv_nsec - boot.tv_nsec) / 1e9
        return Date(timeIntervalSince1970: seconds)
    }

    // MARK: Programs

    static func programs(owners: Owners, holders: HolderIndex?, links: [KernelLink]) -> NodePrograms.Result {
        let (ids, more) = ids(.program, limit: NodeInventoryLimits.objects)
        let boot = bootTime()
        var linksByProgram: [UInt32: [KernelLink]] = [:]
        for link in links { linksByProgram[link.programId, default: []].append(link) }
        var programs: [KernelProgram] = []
        programs.reserveCapacity(ids.count)
        for id in ids {
            guard let (info, mapIDs) = programInfo(id) else { continue }
            let programLinks = linksByProgram[id] ?? []
            programs.append(KernelProgram(
                id: info.id, type: programTypeName(bpf_prog_type(rawValue: info.type)),
                name: withUnsafeBytes(of: info.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) },
                tag: withUnsafeBytes(of: info.tag) { Hex.encode($0) },
                loadedAt: boot.addingTimeInterval(Double(info.load_time) / 1e9), uid: info.created_by_uid,
                btfId: info.btf_id == 0 ? nil : info.btf_id, mapIds: mapIDs.sorted(),
                linkIds: programLinks.map(\.id), attachPoints: programLinks.map(\.attachPoint),
                instructions: info.xlated_prog_len / 8, verifiedInstructions: info.verified_insns, jitedBytes: info.jited_prog_len,
                runCount: info.run_cnt, runTimeNs: info.run_time_ns, owner: owners.programs[info.id],
                holders: holders.map { $0.holders(of: .program, id: info.id) }))
        }
        return NodePrograms.Result(programs: programs, truncated: more)
    }

    // MARK: Maps

    static func maps(owners: Owners, holders: HolderIndex?, programMaps: [UInt32: [UInt32]]) -> NodeMaps.Result {
        let (ids, more) = ids(.map, limit: NodeInventoryLimits.objects)
        var btfs = BTFCache()
        var maps: [KernelMap] = []
        maps.reserveCapacity(ids.count)
        for id in ids {
            guard let descriptor = open(.map, id: id) else { continue }
            var info = bpf_map_info()
            var length = UInt32(MemoryLayout<bpf_map_info>.size)
            guard bpf_obj_get_info_by_fd(descriptor.fd, &info, &length) == 0 else { continue }
            let reader = info.btf_id == 0 ? nil : btfs.reader(info.btf_id)
            maps.append(KernelMap(
                id: info.id, type: mapTypeName(bpf_map_type(rawValue: info.type)),
                name: withUnsafeBytes(of: info.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) },
                keySize: info.key_size, valueSize: info.value_size, maxEntries: info.max_entries, flags: info.map_flags,
                btfId: info.btf_id == 0 ? nil : info.btf_id,
                keyType: info.btf_key_type_id == 0 ? nil : reader?.name(info.btf_key_type_id),
                valueType: info.btf_value_type_id == 0 ? nil : reader?.name(info.btf_value_type_id),
                programIds: programMaps[info.id] ?? [], owner: owners.maps[info.id],
                holders: holders.map { $0.holders(of: .map, id: info.id) }))
        }
        return NodeMaps.Result(maps: maps, truncated: more)
    }

    /// Which programs use each map: each program's `map_ids`.
    static func programsByMap() -> [UInt32: [UInt32]] {
        var result: [UInt32: [UInt32]] = [:]
        for id in ids(.program, limit: NodeInventoryLimits.objects).ids {
            guard let (_, mapIDs) = programInfo(id) else { continue }
            for map in mapIDs { result[map, default: []].append(id) }
        }
        return result
    }

    /// A program's `bpf_prog_info` and the ids of the maps it uses (at
    /// most 64, the kernel's own bound), or nil when it is gone.
    static func programInfo(_ id: UInt32) -> (info: bpf_prog_info, mapIDs: [UInt32])? {
        guard let descriptor = open(.program, id: id) else { return nil }
        var mapIDs = [UInt32](repeating: 0, count: 64)
        var info = bpf_prog_info()
        var length = UInt32(MemoryLayout<bpf_prog_info>.size)
        let read = mapIDs.withUnsafeMutableBufferPointer { buffer -> Int32 in
            info.nr_map_ids = UInt32(buffer.count)
            info.map_ids = UInt64(UInt(bitPattern: buffer.baseAddress))
            return bpf_obj_get_info_by_fd(descriptor.fd, &info, &length)
        }
        guard read == 0 else { return nil }
        return (info, Array(mapIDs.prefix(Int(min(info.nr_map_ids, UInt32(mapIDs.count))))))
    }

    /// The BTF objects of one answer, each read once and kept while its
    /// reader is in use (the reader reads the libbpf object KernelBTF frees).
    struct BTFCache {
        private var loaded: [UInt32: KernelBTF?] = [:]

        mutating func reader(_ id: UInt32) -> BTFReader? {
            if let known = loaded[id] { return known?.reader }
            let btf = KernelBTF(id: id)
            loaded[id] = btf
            return btf?.reader
        }
    }

    // MARK: Links

    static func links(owners: Owners, holders: HolderIndex?) -> NodeLinks.Result {
        let (ids, more) = ids(.link, limit: NodeInventoryLimits.objects)
        var btfs = BTFCache()
        var links: [KernelLink] = []
        links.reserveCapacity(ids.count)
        for id in ids {
            guard let descriptor = open(.link, id: id) else { continue }
            var facts = bpfleet_link_facts()
            guard bpfleet_link_facts_read(descriptor.fd, &facts) == 0 else { continue }
            let type = LinkType(rawValue: facts.type)
            let attachType: String? = switch type {
            case .tracing, .cgroup, .netns, .tcx, .netkit: attachTypeName(bpf_attach_type(rawValue: facts.attach_type))
            default: nil
            }
            links.append(KernelLink(
                id: facts.id, type: linkTypeName(facts.type), programId: facts.prog_id, attachType: attachType,
                attachPoint: attachPoint(facts, type: type, attachType: attachType, btfs: &btfs), owner: owners.links[facts.id],
                holders: holders.map { $0.holders(of: .link, id: facts.id) }))
        }
        return NodeLinks.Result(links: links, truncated: more)
    }

    static func linkTypeName(_ type: UInt32) -> String {
        libbpf_bpf_link_type_str(bpf_link_type(rawValue: type)).map { String(cString: $0) } ?? (LinkType(rawValue: type).map { "\($0)" } ?? "unknown(\(type))")
    }

    /// What the link attaches to, in words (KernelLink.attachPoint).
    static func attachPoint(_ facts: bpfleet_link_facts, type: LinkType?, attachType: String?, btfs: inout BTFCache) -> String {
        let name = withUnsafeBytes(of: facts.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        switch type {
        case .rawTracepoint: return "raw_tracepoint \(name)"
        case .tracing:
            // The target is a type of a BTF object (the kernel's, a
            // module's), or a program (freplace).
            let target = facts.target_obj_id == 0 ? nil : btfs.reader(facts.target_obj_id)?.plainName(facts.target_btf_id)
            return "\(attachType ?? "tracing") \(target ?? "type \(facts.target_btf_id) of BTF \(facts.target_obj_id)")"
        case .cgroup: return "\(attachType ?? "cgroup") cgroup \(facts.cgroup_id)"
        case .iterator: return facts.map_id == 0 ? "iter \(name)" : "iter \(name) map \(facts.map_id)"
        case .netns: return "\(attachType ?? "netns") netns \(facts.netns_ino)"
        case .xdp: return "xdp \(interfaceName(facts.ifindex))"
        case .tcx, .netkit: return "\(attachType ?? "tcx") \(interfaceName(facts.ifindex))"
        case .perfEvent:
            switch facts.perf_type {
            case 1: return "uprobe \(name)+0x\(String(facts.offset, radix: 16))"
            case 2: return "uretprobe \(name)+0x\(String(facts.offset, radix: 16))"
            case 3: return "kprobe \(name)+\(facts.offset)"
            case 4: return "kretprobe \(name)+\(facts.offset)"
            case 5: return "tracepoint \(name)"
            case 6: return "perf_event \(facts.event_type)/\(facts.config)"
            default: return "perf_event"
            }
        case .structOps: return "struct_ops map \(facts.map_id)"
        default: return linkTypeName(facts.type)
        }
    }

    static func interfaceName(_ index: UInt32) -> String {
        guard index != 0 else { return "(interface gone)" }
        var buffer = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
        guard if_indextoname(index, &buffer) != nil else { return "ifindex \(index)" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Which processes hold which BPF objects open: every process's
/// descriptors, read once per answer from /proc (each `anon_inode:bpf-*`
/// descriptor's fdinfo names the object's id). Processes that end while
/// it reads are skipped; at most `maxDescriptors` are looked at.
struct HolderIndex: Sendable {
    static let maxDescriptors = 1 << 20

    private var byObject: [Key: [ObjectHolder]] = [:]
    /// Whether the walk stopped at `maxDescriptors`.
    private(set) var partial = false

    struct Key: Hashable {
        var kind: UInt8
        var id: UInt32
    }

    func holders(of kind: KernelInventory.Kind, id: UInt32) -> [ObjectHolder] {
        byObject[Key(kind: Self.code(kind), id: id)] ?? []
    }

    private static func code(_ kind: KernelInventory.Kind) -> UInt8 {
        switch kind {
        case .program: 0
        case .map: 1
        case .link: 2
        }
    }

    /// The walk, looking only at descriptors of the kinds asked for. Done
    /// with directory descriptors and byte buffers, no path or string per
    /// descriptor: a node has tens of thousands of them.
    init(kinds: Set<KernelInventory.Kind>, proc: String = "/proc") {
        let procFD = Glibc.open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard procFD >= 0, let processes = fdopendir(procFD) else {
            if procFD >= 0 { close(procFD) }
            return
        }
        defer { closedir(processes) }
        let wanted: [(target: [UInt8], field: [UInt8], kind: KernelInventory.Kind)] = [
            (Array("anon_inode:bpf-prog".utf8), Array("prog_id:".utf8), .program),
            (Array("anon_inode:bpf-map".utf8), Array("map_id:".utf8), .map),
            (Array("anon_inode:bpf_link".utf8), Array("link_id:".utf8), .link),
        ].filter { kinds.contains($0.kind) }
        var seen = 0
        var link = [CChar](repeating: 0, count: 64)
        var info = [UInt8](repeating: 0, count: 4096)
        while let entry = readdir(processes) {
            let pid: Int32? = withUnsafeBytes(of: entry.pointee.d_name) { Self.number($0.prefix { $0 != 0 }) }.flatMap { Int32(exactly: $0) }
            guard let pid, pid > 0 else { continue }
            let fdDirectory = openat(procFD, "\(pid)/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fdDirectory >= 0, let fds = fdopendir(fdDirectory) else {
                if fdDirectory >= 0 { close(fdDirectory) }
                continue
            }
            defer { closedir(fds) }
            var fdinfo: Int32 = -1
            defer { if fdinfo >= 0 { close(fdinfo) } }
            var held: Set<Key> = []
            while let fdEntry = readdir(fds) {
                seen += 1
                if seen > Self.maxDescriptors {
                    partial = true
                    return
                }
                let length = withUnsafePointer(to: &fdEntry.pointee.d_name) { name in
                    name.withMemoryRebound(to: CChar.self, capacity: 256) { name in
                        name[0] == 0x2E ? -1 : readlinkat(fdDirectory, name, &link, 64)
                    }
                }
                guard length > 0, let match = wanted.first(where: { $0.target.count == length && $0.target.elementsEqual(link.prefix(length).lazy.map { UInt8(bitPattern: $0) }) }) else {
                    continue
                }
                if fdinfo < 0 { fdinfo = openat(procFD, "\(pid)/fdinfo", O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
                guard fdinfo >= 0 else { continue }
                let file = withUnsafePointer(to: &fdEntry.pointee.d_name) { name in
                    name.withMemoryRebound(to: CChar.self, capacity: 256) { openat(fdinfo, $0, O_RDONLY | O_CLOEXEC) }
                }
                guard file >= 0 else { continue }
                let count = info.withUnsafeMutableBytes { read(file, $0.baseAddress, $0.count) }
                close(file)
                guard count > 0, let id = Self.field(match.field, in: info.prefix(count)) else { continue }
                held.insert(Key(kind: Self.code(match.kind), id: id))
            }
            guard !held.isEmpty else { continue }
            let holder = ObjectHolder(pid: pid, comm: Self.comm(of: pid, proc: proc) ?? "")
            for key in held { byObject[key, default: []].append(holder) }
        }
    }

    /// A decimal number of at most 10 digits, or nil.
    static func number(_ digits: some Collection<UInt8>) -> UInt64? {
        guard !digits.isEmpty, digits.count <= 10 else { return nil }
        var value: UInt64 = 0
        for digit in digits {
            guard digit >= 0x30, digit <= 0x39 else { return nil }
            value = value * 10 + UInt64(digit - 0x30)
        }
        return value
    }

    /// The number after `field` at the start of a line of `text` (an
    /// fdinfo file: `prog_id:\t41`).
    static func field(_ field: [UInt8], in text: ArraySlice<UInt8>) -> UInt32? {
        var lineStart = text.startIndex
        while lineStart < text.endIndex {
            let lineEnd = text[lineStart...].firstIndex(of: 0x0A) ?? text.endIndex
            let line = text[lineStart..<lineEnd]
            if line.starts(with: field) {
                let digits = line.dropFirst(field.count).drop { $0 == 0x09 || $0 == 0x20 }
                return number(digits).flatMap { UInt32(exactly: $0) }
            }
            lineStart = lineEnd == text.endIndex ? lineEnd : text.index(after: lineEnd)
        }
        return nil
    }

    static func comm(of pid: Int32, proc: String) -> String? {
        let fd = Glibc.open("\(proc)/\(pid)/comm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return String(decoding: buffer.prefix(count), as: UTF8.self).trimmingCharacters(in: .newlines)
    }
}
