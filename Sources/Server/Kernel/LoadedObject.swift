import BpfleetShared
import CBPFSupport
import CLibBPF
import Glibc

/// What a load does to an opened object before the kernel sees it: which
/// programs load, the initial image of its globals, the kernel maps it
/// takes over instead of creating its own.
extension BPFObject {
    /// Every program's name, in object order.
    var programNames: [String] { programs.map { String(cString: bpf_program__name($0)) } }

    /// Every map's name as operators use it (`BPFObject.displayName`).
    var mapNames: [String] { maps.map(Self.displayName) }

    /// Loads only the programs named in `names`.
    func select(programs names: Set<String>) {
        for program in programs {
            bpf_program__set_autoload(program, names.contains(String(cString: bpf_program__name(program))))
        }
    }

    /// The bytes `slot` takes in its section's initial image, which libbpf
    /// hands to the kernel at load; nil when the section has none.
    func initialImage(of slot: GlobalSlot) -> UnsafeMutableRawBufferPointer? {
        var size = 0
        guard let image = bpf_map__initial_value(slot.map, &size),
              slot.description.offset + slot.description.size <= size else { return nil }
        // libbpf hands out its pre-load image as const; before load it is
        // exactly the buffer meant to be edited (what skeletons write to).
        return UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(mutating: image) + slot.description.offset,
                                             count: slot.description.size)
    }

    /// The step of a failed load libbpf's messages name, as an error that
    /// names its subject: a map the kernel would not create, a kernel
    /// function or tracepoint a section names that the kernel lacks. nil
    /// when the messages name neither.
    func namedFailure(in messages: String, errno code: Int32) -> KernelError? {
        for line in messages.split(separator: "\n") {
            // "libbpf: map 'NAME': failed to create: Invalid argument(-22)"
            if let name = Self.quoted(after: "map '", in: line), line.contains("': failed to create") {
                let map = maps.first { String(cString: bpf_map__name($0)) == name }.map(Self.displayName) ?? name
                return .mapCreateFailed(map: map, errno: code, libbpf: messages)
            }
            // "libbpf: prog 'NAME': failed to find kernel BTF type ID of 'TARGET': -3"
            if let name = Self.quoted(after: "prog '", in: line), let target = Self.quoted(after: "failed to find kernel BTF type ID of '", in: line) {
                return .missingAttachTarget(program: name, section: section(ofProgram: name), target: target, libbpf: messages)
            }
        }
        return nil
    }

    /// The section of the program named `name`; empty when there is none.
    func section(ofProgram name: String) -> String {
        programs.first { String(cString: bpf_program__name($0)) == name }.map { String(cString: bpf_program__section_name($0)) } ?? ""
    }

    /// The text between `prefix` and the next `'` in `line`.
    static func quoted(after prefix: String, in line: Substring) -> String? {
        guard let start = line.range(of: prefix)?.upperBound, let end = line[start...].firstIndex(of: "'") else { return nil }
        return String(line[start..<end])
    }

    /// Map `index` (named `name`) takes the kernel map pinned at `path`
    /// instead of creating its own (`bpf_map__reuse_fd`).
    func reuseMap(at index: Int, named name: String, pinnedAt path: String) throws(KernelError) {
        guard let pinned = OwnedDescriptor(pinnedAt: path) else {
            throw .failed(operation: "open the kept map \(name) at \(path)", errno: currentErrno())
        }
        // libbpf takes a duplicate of the descriptor.
        guard bpf_map__reuse_fd(maps[index], pinned.fd) == 0 else {
            throw .failed(operation: "reuse map \(name)", errno: currentErrno())
        }
    }
}

/// An object the kernel has loaded: the opened BPFObject, whose programs
/// and maps now have descriptors. Owns it (and through it every descriptor;
/// they close when this dies). Made only by `load`, so an object that is
/// only opened cannot be pinned.
final class LoadedObject {
    let object: BPFObject

    private init(_ object: BPFObject) {
        self.object = object
    }

    /// Runs the verifier on the selected programs; a log of up to
    /// `logBufferSize` bytes per load (the kernel fails with ENOSPC past
    /// it, and libbpf then still returns what fit).
    static func load(_ object: BPFObject, logBufferSize: Int) throws(KernelError) -> LoadedObject {
        let log = UnsafeMutablePointer<CChar>.allocate(capacity: logBufferSize)
        defer { log.deallocate() }
        log[0] = 0
        for program in object.programs where bpf_program__autoload(program) {
            bpf_program__set_log_buf(program, log, logBufferSize)
        }
        bpfleet_libbpf_messages_reset()
        let rc = bpf_object__load(object.handle)
        if rc != 0 {
            let code = rc < 0 ? -rc : currentErrno()
            let verifierLog = String(cString: log)
            let messages = takeLibbpfMessages()
            // libbpf names the program it failed on; a failed load closes the
            // programs loaded before it too, so their descriptors do not tell.
            let named = messages.split(separator: "\n").lazy
                .filter { $0.contains("failed to load") || $0.contains("program load failed") }
                .compactMap { BPFObject.quoted(after: "prog '", in: $0) }.first
            let failed = named ?? object.programs.first { bpf_program__autoload($0) && bpf_program__fd($0) < 0 }
                .map { String(cString: bpf_program__name($0)) }
            if !verifierLog.isEmpty, let failed {
                // Only the statistics line: the kernel refused the program before verifying it.
                let verified = verifierLog.split(separator: "\n").contains { !$0.hasPrefix("processed 0 insns") }
                guard verified else {
                    throw .programRefused(program: failed, section: object.section(ofProgram: failed), errno: code, libbpf: messages)
                }
                throw .verifierRejected(program: failed, log: verifierLog, errno: code, truncated: code == ENOSPC)
            }
            throw object.namedFailure(in: messages, errno: code) ?? .loadFailed(errno: code, libbpf: messages)
        }
        return LoadedObject(object)
    }

    /// The loaded programs' names, in object order.
    var programNames: [String] {
        object.programs.filter { bpf_program__fd($0) >= 0 }.map { String(cString: bpf_program__name($0)) }
    }

    /// The indices (in `BPFObject.maps` order) of the maps the load created or reused.
    var mapIndices: [Int] {
        object.maps.indices.filter { bpf_map__fd(object.maps[$0]) >= 0 }
    }

    /// Pins program `name` at `path`: `bpf_obj_pin`, not
    /// `bpf_program__pin`, which keeps the path in libbpf's program and
    /// would unpin it when the object closes.
    func pinProgram(named name: String, at path: String) throws(KernelError) {
        guard let program = object.programs.first(where: { String(cString: bpf_program__name($0)) == name }),
              bpf_obj_pin(bpf_program__fd(program), path) == 0 else {
            throw .failed(operation: "pin program \(name) at \(path)", errno: currentErrno())
        }
    }

    /// Pins map `index` (named `name`) at `path`, with `bpf_obj_pin`: nothing
    /// of libbpf's outlives this process.
    func pinMap(at index: Int, named name: String, path: String) throws(KernelError) {
        guard bpf_obj_pin(bpf_map__fd(object.maps[index]), path) == 0 else {
            throw .failed(operation: "pin map \(name) at \(path)", errno: currentErrno())
        }
    }
}

/// CPUs the kernel may run on (per-CPU maps hold a value for each).
func possibleCPUCount() -> Int { Int(libbpf_num_possible_cpus()) }
