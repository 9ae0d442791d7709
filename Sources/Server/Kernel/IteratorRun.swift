import BpfleetShared
import CLibBPF
import Glibc

/// One run of an iterator program (`iter/task`, `iter/bpf_map`, ...): a
/// `BPF_TRACE_ITER` link of the program and an iterator descriptor made
/// from it (`bpf_iter_create`), read chunk by chunk to its end; both close
/// when this dies. Nothing of it outlives the call. Blocking: read it off
/// the event loop.
final class IteratorRun: @unchecked Sendable {
    private let link: OwnedDescriptor
    private let iterator: OwnedDescriptor
    let program: String

    /// Makes the link and the iterator: every refusal comes here, before
    /// anything is read.
    init(program: AttachProgram, mapFD: Int32?) throws(KernelError) {
        guard program.type == BPF_PROG_TYPE_TRACING, program.expectedAttachType == BPF_TRACE_ITER else {
            throw .invalidArgument(
                message: "program '\(program.name)' (section '\(program.section)') is not an iterator: iter.read runs iter/... programs",
                data: ["field": "program", "section": .string(program.section)])
        }
        var info = bpf_iter_link_info()
        var opts = bpf_link_create_opts()
        opts.sz = MemoryLayout<bpf_link_create_opts>.size
        let linkFD: Int32 = withUnsafeMutablePointer(to: &info) { infoPointer in
            if let mapFD {
                infoPointer.pointee.map.map_fd = UInt32(bitPattern: mapFD)
                opts.iter_info = infoPointer
                opts.iter_info_len = UInt32(MemoryLayout<bpf_iter_link_info>.size)
            }
            return bpf_link_create(program.fd, 0, BPF_TRACE_ITER, &opts)
        }
        guard linkFD >= 0 else {
            let code = -linkFD
            if code == EINVAL || code == EBADF, mapFD == nil {
                throw .invalidArgument(
                    message: "the kernel refused to run iterator '\(program.name)' (section '\(program.section)'): \(errnoText(code)) (\(errnoName(code))); an iterator over one map's elements needs map",
                    data: ["field": "map", "errnoName": .string(errnoName(code))])
            }
            throw .failed(operation: "create iterator link of \(program.name)", errno: code)
        }
        link = OwnedDescriptor(linkFD)
        let iteratorFD = bpf_iter_create(link.fd)
        guard iteratorFD >= 0 else { throw .failed(operation: "create iterator of \(program.name)", errno: -iteratorFD) }
        iterator = OwnedDescriptor(iteratorFD)
        self.program = program.name
    }

    /// The next bytes the iterator writes, at most `count`; empty at its end.
    func read(upTo count: Int) throws(KernelError) -> [UInt8] {
        guard count > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: count)
        while true {
            let read = buffer.withUnsafeMutableBytes { Glibc.read(iterator.fd, $0.baseAddress, count) }
            if read >= 0 { return Array(buffer.prefix(read)) }
            let code = currentErrno()
            if code == EINTR || code == EAGAIN { continue }
            throw .failed(operation: "read iterator \(program)", errno: code)
        }
    }
}
