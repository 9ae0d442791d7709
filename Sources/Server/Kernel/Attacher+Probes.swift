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
    private func boundName(_ program: OpaquePointer, named name: String, given: String?, field: String, target: AttachTarget) throws(ResponseError) {
        let section = String(cString: bpf_program__section_name(program))
        let bound = section.split(separator: "/", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
        if let given, !given.isEmpty, given != bound {
            throw ResponseError(.invalidParams,
                                "\(field): program '\(name)' was loaded for \(target.type) '\(bound)' (its section '\(section)'); the kernel binds it at load, so it cannot attach to '\(given)'",
                                data: ["field": .string(field), "section": .string(section)])
        }
    }

    func attachBTFTracepoint(_ program: OpaquePointer, named name: String, tracepoint: String?, target: AttachTarget) throws(ResponseError) -> BPFLink {
        let type = bpf_program__type(program)
        guard type == BPF_PROG_TYPE_TRACING, bpf_program__expected_attach_type(program) == BPF_TRACE_RAW_TP else {
            throw notOfKind(program, named: name, kind: "tp_btf (SEC(\"tp_btf/NAME\"))", target: target)
        }
        try boundName(program, named: name, given: tracepoint, field: "target.name", target: target)
        let handle = bpf_program__attach_trace(program)
        return try finish(handle, errno: currentErrno(), program, named: name, target: target)
    }

    func attachTrampoline(_ program: OpaquePointer, named name: String, function: String?, target: AttachTarget) throws(ResponseError) -> BPFLink {
        let expected: bpf_attach_type = target.type == "fexit" ? BPF_TRACE_FEXIT : BPF_TRACE_FENTRY
        guard bpf_program__type(program) == BPF_PROG_TYPE_TRACING, bpf_program__expected_attach_type(program) == expected else {
            throw notOfKind(program, named: name, kind: "\(target.type) (SEC(\"\(target.type)/FUNCTION\"))", target: target)
        }
        try boundName(program, named: name, given: function, field: "target.function", target: target)
        let handle = bpf_program__attach_trace(program)
        return try finish(handle, errno: currentErrno(), program, named: name, target: target)
    }

    func attachKprobe(_ program: OpaquePointer, named name: String, function: String, retprobe: Bool, target: AttachTarget) throws(ResponseError) -> BPFLink {
        try require(bpf_program__type(program), [BPF_PROG_TYPE_KPROBE], program: name, target: target)
        guard !function.isEmpty, function.count <= 256,
              function.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }) else {
            throw .invalidParams("target.function: '\(function)' is not a kernel function name", field: "target.function")
        }
        var opts = bpf_kprobe_opts()
        opts.sz = libbpfOptionsSize(\bpf_kprobe_opts.retprobe)
        opts.retprobe = retprobe
        let handle = bpf_program__attach_kprobe_opts(program, function, &opts)
        let code = currentErrno()
        return try finish(handle, errno: code, program, named: name, target: target,
                          message: code == ENOENT ? "kernel function '\(function)' does not exist or cannot be probed" : nil)
    }

    func attachUprobe(_ program: OpaquePointer, named name: String, binary: String, symbol: String?, offset: UInt64?,
                      pid: Int32?, retprobe: Bool, target: AttachTarget) throws(ResponseError) -> BPFLink {
        try require(bpf_program__type(program), [BPF_PROG_TYPE_KPROBE], program: name, target: target)
        switch (symbol, offset) {
        case (nil, nil):
            throw .invalidParams("target: a uprobe needs a symbol or an offset", field: "target.symbol")
        case (.some, .some):
            throw .invalidParams("target: give a symbol or an offset, not both", field: "target.offset")
        case (.some(let symbol), nil) where symbol.isEmpty || symbol.utf8.count > 512 || symbol.contains("\0"):
            throw .invalidParams("target.symbol: '\(symbol)' is not a symbol name", field: "target.symbol")
        default:
            break
        }
        try checkBinary(binary)
        try checkPID(pid)
        var opts = bpf_uprobe_opts()
        opts.sz = libbpfOptionsSize(\bpf_uprobe_opts.func_name)
        opts.retprobe = retprobe
        let handle: OpaquePointer?
        if let symbol {
            handle = symbol.withCString { symbolText in
                opts.func_name = symbolText
                return bpf_program__attach_uprobe_opts(program, pid ?? -1, binary, 0, &opts)
            }
        } else {
            handle = bpf_program__attach_uprobe_opts(program, pid ?? -1, binary, Int(offset ?? 0), &opts)
        }
        let code = currentErrno()
        var message: String?
        if handle == nil, let symbol, code == ENOENT || code == ESRCH {
            message = "symbol '\(symbol)' is not a function in \(binary)'s symbol tables"
        } else if handle == nil, code == EINVAL, let offset {
            message = "offset 0x\(String(offset, radix: 16)) is not a place in \(binary) the kernel can probe"
        }
        return try finish(handle, errno: code, program, named: name, target: target, message: message)
    }

    func attachUSDT(_ program: OpaquePointer, named name: String, binary: String, provider: String, probe: String,
                    pid: Int32?, target: AttachTarget) throws(ResponseError) -> BPFLink {
        try require(bpf_program__type(program), [BPF_PROG_TYPE_KPROBE], program: name, target: target)
        for (value, field) in [(provider, "target.provider"), (probe, "target.name")]
        where value.isEmpty || !value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
            throw .invalidParams("\(field): '\(value)' is not a USDT name", field: field)
        }
        try checkBinary(binary)
        try checkPID(pid)
        let programID = ProgramInfo(fd: bpf_program__fd(program))?.id ?? 0
        let before = Self.linkIDs(ofProgram: programID)
        let handle = bpf_program__attach_usdt(program, pid ?? -1, binary, provider, probe, nil)
        let code = currentErrno()
        guard let handle else {
            throw failure(code, program: name, section: section(program), target: target,
                          message: code == ENOENT ? "\(binary) has no USDT probe \(provider):\(probe)" : nil)
        }
        // libbpf's USDT link is a bundle of kernel links (a uprobe per call
        // site) with no descriptor of its own, so it cannot be pinned; its
        // kernel links are the program's links that were not there before
        // (attaches of a probe are serialized), held and pinned one by one.
        var parts: [(name: String, attachment: Attachment)] = []
        for id in Self.linkIDs(ofProgram: programID).subtracting(before).sorted() {
            let fd = bpf_link_get_fd_by_id(id)
            if fd >= 0 { parts.append(("site\(parts.count)", .descriptor(fd))) }
        }
        guard !parts.isEmpty else { return BPFLink(handle: handle) }
        return BPFLink(parts: parts + [("usdt", .composite(handle))], pinAsDirectory: true)
    }

    /// The ids of every kernel link of the program `programID`.
    static func linkIDs(ofProgram programID: UInt32) -> Set<UInt32> {
        var ids: Set<UInt32> = []
        var id: UInt32 = 0
        while bpf_link_get_next_id(id, &id) == 0 {
            let fd = bpf_link_get_fd_by_id(id)
            guard fd >= 0 else { continue }
            var info = bpf_link_info()
            var length = UInt32(MemoryLayout<bpf_link_info>.size)
            if bpf_obj_get_info_by_fd(fd, &info, &length) == 0, info.prog_id == programID { ids.insert(id) }
            close(fd)
        }
        return ids
    }

    // MARK: Shared

    /// A user-space binary: a path that exists, or a bare name libbpf looks
    /// up (PATH, then the library directories).
    func checkBinary(_ binary: String) throws(ResponseError) {
        guard !binary.isEmpty, !binary.contains("\0") else { throw .invalidParams("target.binary: empty", field: "target.binary") }
        if binary.contains("/") {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: binary, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw ResponseError(.invalidParams, "target.binary: no file \(binary) on this node",
                                    data: ["field": "target.binary", "binary": .string(binary)])
            }
        }
    }

    func checkPID(_ pid: Int32?) throws(ResponseError) {
        guard let pid else { return }
        guard pid > 0, FileManager.default.fileExists(atPath: "/proc/\(pid)") else {
            throw ResponseError(.invalidParams, "target.pid: no process \(pid) on this node", data: ["field": "target.pid", "pid": .int(Int64(pid))])
        }
    }

    func notOfKind(_ program: OpaquePointer, named name: String, kind: String, target: AttachTarget) -> ResponseError {
        let type = bpf_program__type(program)
        let section = String(cString: bpf_program__section_name(program))
        return ResponseError(.invalidParams,
                             "program '\(name)' is a \(programTypeName(type)) program (section '\(section)') and cannot attach to a \(target.type) target, which takes \(kind) programs",
                             data: ["field": "target.type", "programType": .string(programTypeName(type)), "section": .string(section)])
    }

    /// The owning link, or the attach failure with libbpf's errno.
    func finish(_ handle: OpaquePointer?, errno code: Int32, _ program: OpaquePointer, named name: String, target: AttachTarget,
                message: String? = nil) throws(ResponseError) -> BPFLink {
        guard let handle else {
            throw failure(code, program: name, section: String(cString: bpf_program__section_name(program)), target: target, message: message)
        }
        return BPFLink(handle: handle)
    }
}
