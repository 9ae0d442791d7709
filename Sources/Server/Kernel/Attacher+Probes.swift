import BpfleetShared
import CBPFSupport
import CLibBPF
import Foundation

/// Kernel and user-space function targets: tp_btf, fentry/fexit, kprobe,
/// uprobe and usdt.
extension Attacher {
    /// tp_btf, fentry and fexit programs are verified against one kernel
    /// function or tracepoint, named by their section: the kernel binds them
    /// at load, so a target may repeat that name but not change it.
    private func boundName(_ program: AttachProgram, given: String?, field: String, target: AttachTarget) throws(KernelError) {
        let bound = program.section.split(separator: "/", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
        if let given, !given.isEmpty, given != bound {
            throw KernelError.invalidArgument(message:
                                "\(field): program '\(program.name)' was loaded for \(target.type) '\(bound)' (its section '\(program.section)'); the kernel binds it at load, so it cannot attach to '\(given)'",
                                data: ["field": .string(field), "section": .string(program.section)])
        }
    }

    func attachBTFTracepoint(_ program: AttachProgram, tracepoint: String?, target: AttachTarget) throws(KernelError) -> BPFLink {
        guard program.type == BPF_PROG_TYPE_TRACING, program.expectedAttachType == BPF_TRACE_RAW_TP else {
            throw notOfKind(program, kind: "tp_btf (SEC(\"tp_btf/NAME\"))", target: target)
        }
        try boundName(program, given: tracepoint, field: "target.name", target: target)
        return try attachBound(program, target: target)
    }

    func attachTrampoline(_ program: AttachProgram, function: String?, target: AttachTarget) throws(KernelError) -> BPFLink {
        let expected: bpf_attach_type = target.type == "fexit" ? BPF_TRACE_FEXIT : BPF_TRACE_FENTRY
        guard program.type == BPF_PROG_TYPE_TRACING, program.expectedAttachType == expected else {
            throw notOfKind(program, kind: "\(target.type) (SEC(\"\(target.type)/FUNCTION\"))", target: target)
        }
        try boundName(program, given: function, field: "target.function", target: target)
        return try attachBound(program, target: target)
    }

    /// A program the kernel bound to its hook at load (tp_btf, fentry,
    /// fexit, lsm: the attach BTF id it was verified against), as libbpf's
    /// `bpf_program__attach_trace`/`_lsm` do: `BPF_LINK_CREATE` with no target and the program's
    /// attach type, or `BPF_RAW_TRACEPOINT_OPEN` with no name on kernels
    /// whose link_create does not take it.
    func attachBound(_ program: AttachProgram, target: AttachTarget) throws(KernelError) -> BPFLink {
        var fd = bpf_link_create(program.fd, 0, program.expectedAttachType, nil)
        if fd < 0, -fd == EINVAL || -fd == EOPNOTSUPP {
            fd = bpf_raw_tracepoint_open(nil, program.fd)
        }
        guard fd >= 0 else { throw failure(currentErrno(), program, target: target) }
        return BPFLink(parts: [("link", .descriptor(fd))])
    }

    func attachKprobe(_ program: AttachProgram, function: String, retprobe: Bool, target: AttachTarget) throws(KernelError) -> BPFLink {
        try require(program.type, [BPF_PROG_TYPE_KPROBE], program: program.name, target: target)
        guard !function.isEmpty, function.count <= 256,
              function.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }) else {
            throw .invalidField("target.function: '\(function)' is not a kernel function name", field: "target.function")
        }
        let missing = "kernel function '\(function)' does not exist or cannot be probed"
        return try attachProbeEvent(program, pmu: "kprobe", name: function, offset: 0, retprobe: retprobe, pid: nil, target: target,
                                    message: { $0 == ENOENT ? missing : nil })
    }

    func attachUprobe(_ program: AttachProgram, binary: String, symbol: String?, offset: UInt64?,
                      pid: Int32?, retprobe: Bool, target: AttachTarget) throws(KernelError) -> BPFLink {
        try require(program.type, [BPF_PROG_TYPE_KPROBE], program: program.name, target: target)
        switch (symbol, offset) {
        case (nil, nil):
            throw .invalidField("target: a uprobe needs a symbol or an offset", field: "target.symbol")
        case (.some, .some):
            throw .invalidField("target: give a symbol or an offset, not both", field: "target.offset")
        case (.some(let symbol), nil) where symbol.isEmpty || symbol.utf8.count > 512 || symbol.contains("\0"):
            throw .invalidField("target.symbol: '\(symbol)' is not a symbol name", field: "target.symbol")
        default:
            break
        }
        try checkBinary(binary)
        try checkPID(pid)
        let message = { (code: Int32) -> String? in
            if let symbol, code == ENOENT || code == ESRCH {
                return "symbol '\(symbol)' is not a function in \(binary)'s symbol tables"
            } else if code == EINVAL, let offset {
                return "offset 0x\(String(offset, radix: 16)) is not a place in \(binary) the kernel can probe"
            }
            return nil
        }
        return try attachUprobeByDescriptor(program, binary: binary, symbol: symbol, offset: offset, pid: pid, retprobe: retprobe,
                                            target: target, message: message)
    }

    /// What `bpf_program__attach_uprobe_opts` does, for a program held by
    /// its descriptor: the binary's full path (a bare name is looked up as
    /// libbpf looks it up), the symbol's file offset from its ELF symbol
    /// tables, then a uprobe perf event and a link to it.
    private func attachUprobeByDescriptor(_ program: AttachProgram, binary: String, symbol: String?, offset: UInt64?, pid: Int32?,
                                          retprobe: Bool, target: AttachTarget, message: (Int32) -> String?) throws(KernelError) -> BPFLink {
        let path = try resolvedPath(of: binary)
        var fileOffset = offset ?? 0
        if let symbol {
            let found = bpfleet_elf_function_offset(path, symbol)
            guard found > 0 else {
                let code = Int32(-found)
                throw failure(code, program, target: target, message: message(code))
            }
            fileOffset = UInt64(found)
        }
        return try attachProbeEvent(program, pmu: "uprobe", name: path, offset: fileOffset, retprobe: retprobe, pid: pid,
                                    target: target, message: message)
    }

    /// A binary's full path: as given when it has a `/`, else looked up as
    /// libbpf looks a bare name up (PATH, then the library directories).
    func resolvedPath(of binary: String) throws(KernelError) -> String {
        guard !binary.contains("/") else { return binary }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        guard bpfleet_resolve_binary_path(binary, &buffer, UInt(buffer.count)) == 0 else {
            throw KernelError.invalidArgument(message: "target.binary: no binary \(binary) in PATH or the library directories on this node",
                                data: ["field": "target.binary", "binary": .string(binary)])
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A kprobe or uprobe perf event on the kernel's `pmu` and a
    /// `BPF_PERF_EVENT` link of the program to it.
    private func attachProbeEvent(_ program: AttachProgram, pmu: String, name: String, offset: UInt64, retprobe: Bool, pid: Int32?,
                                  target: AttachTarget, message: (Int32) -> String?) throws(KernelError) -> BPFLink {
        let perf = bpfleet_perf_event_open_probe(pmu, name, offset, retprobe ? 1 : 0, pid ?? -1)
        guard perf >= 0 else {
            let code = currentErrno()
            if code == EOPNOTSUPP {
                throw .unsupported(feature: "\(pmu) PMU", message: "this kernel has no \(pmu) perf event source (/sys/bus/event_source/devices/\(pmu))")
            }
            throw failure(code, program, target: target, message: message(code))
        }
        guard let link = Self.perfEventLink(program, perfFD: perf) else {
            let code = currentErrno()
            throw failure(code, program, target: target, message: message(code))
        }
        return BPFLink(parts: [("link", link)])
    }

    func checkUSDT(binary: String, provider: String, probe: String, pid: Int32?) throws(KernelError) {
        for (value, field) in [(provider, "target.provider"), (probe, "target.name")]
        where value.isEmpty || !value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
            throw .invalidField("\(field): '\(value)' is not a USDT name", field: field)
        }
        try checkBinary(binary)
        try checkPID(pid)
    }

    // MARK: Shared

    /// A user-space binary: a path that exists, or a bare name libbpf looks
    /// up (PATH, then the library directories).
    func checkBinary(_ binary: String) throws(KernelError) {
        guard !binary.isEmpty, !binary.contains("\0") else { throw .invalidField("target.binary: empty", field: "target.binary") }
        if binary.contains("/") {
            var info = stat()
            if stat(binary, &info) != 0, errno == EACCES {
                // Root without CAP_DAC_READ_SEARCH (docs/security.md, "Least
                // privilege") may not enter another user's 0700 directory.
                throw KernelError.invalidArgument(
                    message: "target.binary: bpfleetd may not reach \(binary) (Permission denied): a directory on its path is closed to root without CAP_DAC_READ_SEARCH, which bpfleetd does not keep unless started with --keep-capabilities",
                    data: ["field": "target.binary", "binary": .string(binary), "errnoName": "EACCES"])
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: binary, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw KernelError.invalidArgument(message: "target.binary: no file \(binary) on this node",
                                    data: ["field": "target.binary", "binary": .string(binary)])
            }
        }
    }

    func checkPID(_ pid: Int32?) throws(KernelError) {
        guard let pid else { return }
        guard pid > 0, FileManager.default.fileExists(atPath: "/proc/\(pid)") else {
            throw KernelError.invalidArgument(message: "target.pid: no process \(pid) on this node", data: ["field": "target.pid", "pid": .int(Int64(pid))])
        }
    }

    func notOfKind(_ program: AttachProgram, kind: String, target: AttachTarget) -> KernelError {
        KernelError.invalidArgument(message:
                      "program '\(program.name)' is a \(programTypeName(program.type)) program (section '\(program.section)') and cannot attach to a \(target.type) target, which takes \(kind) programs",
                      data: ["field": "target.type", "programType": .string(programTypeName(program.type)), "section": .string(program.section)])
    }
}
