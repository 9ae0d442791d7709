import BpfleetShared
import CLibBPF
import Glibc

/// One run of an iterator program (`iter/task`, `iter/bpf_map`, ...): a
/// `BPF_TRACE_ITER` link of the program, an iterator descriptor made from
/// it (`bpf_iter_create`), read to its end or to `limit` bytes, then both
/// closed. Nothing of it outlives the call. Blocking: run it off the event
/// loop.
struct IteratorRun {
    /// The program, which must have been loaded as an iterator.
    let program: AttachProgram
    /// For iterators over one map's elements: that map's descriptor.
    let mapFD: Int32?
    let limit: Int

    /// The bytes the iterator wrote, at most `limit`, and whether it had more.
    func read() throws(KernelError) -> (bytes: [UInt8], truncated: Bool) {
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
        let link = OwnedDescriptor(linkFD)
        let iteratorFD = bpf_iter_create(link.fd)
        guard iteratorFD >= 0 else { throw .failed(operation: "create iterator of \(program.name)", errno: -iteratorFD) }
        let iterator = OwnedDescriptor(iteratorFD)

        var output: [UInt8] = []
        let chunk = 64 << 10
        var buffer = [UInt8](repeating: 0, count: chunk)
        while output.count <= limit {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(iterator.fd, $0.baseAddress, chunk) }
            if count < 0 {
                let code = currentErrno()
                if code == EINTR || code == EAGAIN { continue }
                throw .failed(operation: "read iterator \(program.name)", errno: code)
            }
            if count == 0 { return (output, false) }
            output.append(contentsOf: buffer[0..<count])
        }
        // One byte past the limit proves there was more; it is not answered.
        return (Array(output.prefix(limit)), true)
    }
}
