import BpfleetShared
import NIOConcurrencyHelpers
import NIOCore

/// How `map.snapshot` with `symbolize` writes an entry's stacks: a stack
/// trace map's value as its frames, or, for a map whose entries hold stack
/// ids, the value as ever and a `stacks` member with the frames of each id.
struct StackRendering: Sendable {
    enum Mode: Sendable {
        case stackValues
        case stackIDs(StackIDFields, stackMap: ProbeMap)
    }
    let mode: Mode
    let kernel: KernelSymbols
    let probe: LoadedProbe
    /// Each process's mappings, read once per snapshot.
    let processes = NIOLockedValueBox([Int32: StackSymbolizer.UserSpace]())
    /// Each stack's frames as written, by id and process: a profile's
    /// entries name the same stacks again and again. At most
    /// `maxRenderedBytes` of them are kept for one call.
    private let rendered = NIOLockedValueBox((stacks: [RenderedKey: ByteBuffer](), bytes: 0))
    static let maxRenderedBytes = 16 << 20
    /// At most this many processes' mappings are kept for one call.
    static let maxProcesses = 4096

    private struct RenderedKey: Hashable {
        var id: Int64
        var pid: Int32?
    }

    /// What `symbolize` means for `map` of `probe`; -32602 when it has no stacks.
    static func of(_ map: ProbeMap, in probe: LoadedProbe, stackMap name: String?) throws(ResponseError) -> StackRendering {
        let kernel = StackSymbolizer.shared.kernelSymbols()
        if map.info.isStackTrace {
            return StackRendering(mode: .stackValues, kernel: kernel, probe: probe)
        }
        let fields = StackIDFields(key: map.codec.keyType, value: map.codec.valueType)
        guard !fields.fields.isEmpty else {
            throw .invalidParams(
                "symbolize: map '\(map.name)' is no stack trace map, and its key and value have no stack id member (a 4- or 8-byte integer named like kern_stack_id, user_stack_id or stackid)",
                field: "symbolize")
        }
        let stackMaps = probe.maps.filter { $0.info.isStackTrace }
        let chosen: ProbeMap
        if let name {
            guard let named = stackMaps.first(where: { $0.name == name }) else {
                throw .invalidParams("stackMap: probe '\(probe.name)' has no stack trace map '\(name)' (stack trace maps: \(stackMaps.map(\.name).joined(separator: ", ")))",
                                     field: "stackMap")
            }
            chosen = named
        } else {
            guard stackMaps.count == 1, let only = stackMaps.first else {
                throw .invalidParams(
                    stackMaps.isEmpty
                        ? "symbolize: probe '\(probe.name)' has no stack trace map for the stack ids of map '\(map.name)'"
                        : "stackMap: probe '\(probe.name)' has several stack trace maps (\(stackMaps.map(\.name).joined(separator: ", "))); name the one map '\(map.name)''s stack ids index",
                    field: "stackMap")
            }
            chosen = only
        }
        return StackRendering(mode: .stackIDs(fields, stackMap: chosen), kernel: kernel, probe: probe)
    }

    /// The entry's value (and its `stacks`), after `"value":`.
    func write(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, codec: MapCodec, format: ValueFormat, to out: inout JSONWriter) {
        switch mode {
        case .stackValues:
            StackSymbolizer.shared.writeFrames(
                StackSymbolizer.addresses(of: value), kernel: kernel,
                user: .unknown("a stack trace map alone does not say which process a user stack is of: symbolize the map whose entries hold its id and the pid"),
                to: &out)
        case .stackIDs(let fields, let stackMap):
            codec.writeValue(value, format: format, to: &out)
            let user = userSpace(fields, key: key, value: value)
            out.raw(",\"stacks\":{")
            for (index, field) in fields.fields.enumerated() {
                if index > 0 { out.byte(UInt8(ascii: ",")) }
                out.string(field.name)
                out.byte(UInt8(ascii: ":"))
                writeStack(id: StackIDFields.read(field, from: field.inKey ? key : value), from: stackMap, user: user, to: &out)
            }
            out.byte(UInt8(ascii: "}"))
        }
    }

    /// The process the entry's user stack is of: its `tgid` (else `pid`) member.
    private func userSpace(_ fields: StackIDFields, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> StackSymbolizer.UserSpace {
        guard let member = fields.process else {
            return .unknown("the entry has no pid or tgid member to say which process its user stack is of")
        }
        guard let raw = StackIDFields.read(member, from: member.inKey ? key : value), raw > 0, let pid = Int32(exactly: raw) else {
            return .unknown("the entry's \(member.name) is no process id")
        }
        if let known = processes.withLockedValue({ $0[pid] }) { return known }
        let found: StackSymbolizer.UserSpace = ProcessMappings(pid: pid).map { .process($0) }
            ?? .unknown("process \(pid) has exited: its mappings are gone")
        processes.withLockedValue { if $0.count < Self.maxProcesses { $0[pid] = found } }
        return found
    }

    private func writeStack(id: Int64?, from stackMap: ProbeMap, user: StackSymbolizer.UserSpace, to out: inout JSONWriter) {
        var pid: Int32?
        if case .process(let process) = user { pid = process.pid }
        let key = id.map { RenderedKey(id: $0, pid: pid) }
        if let key, let known = rendered.withLockedValue({ $0.stacks[key] }) {
            out.bytes(known)
            return
        }
        var own = JSONWriter(buffer: ByteBuffer())
        renderStack(id: id, from: stackMap, user: user, to: &own)
        out.bytes(own.buffer)
        if let key {
            rendered.withLockedValue { cache in
                guard cache.bytes + own.buffer.readableBytes <= Self.maxRenderedBytes else { return }
                cache.stacks[key] = own.buffer
                cache.bytes += own.buffer.readableBytes
            }
        }
    }

    private func renderStack(id: Int64?, from stackMap: ProbeMap, user: StackSymbolizer.UserSpace, to out: inout JSONWriter) {
        guard let id, id >= 0, id <= Int64(UInt32.max) else {
            // bpf_get_stackid answers -errno when it could not take the stack.
            let text = id.map { "stack id \($0): the program got no stack (\($0 < 0 ? errnoName(Int32(clamping: -$0)) : "out of range"))" } ?? "no stack id"
            out.raw("{\"reason\":")
            out.string(text)
            out.byte(UInt8(ascii: "}"))
            return
        }
        let key = withUnsafeBytes(of: UInt32(id)) { Array($0) }
        let found: [UInt8]?
        do throws(KernelError) {
            found = try stackMap.io.lookup(key)
        } catch {
            found = nil
        }
        guard let found else {
            out.raw("{\"reason\":")
            out.string("no stack \(id) in map '\(stackMap.name)' (replaced or removed since)")
            out.byte(UInt8(ascii: "}"))
            return
        }
        found.withUnsafeBytes { StackSymbolizer.shared.writeFrames(StackSymbolizer.addresses(of: $0), kernel: kernel, user: user, to: &out) }
    }
}

extension MapCodec {
    /// An entry's value: as the codec writes it, or through `stacks` when
    /// the call asked for them symbolized.
    func writeValue(_ value: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer, format: ValueFormat, stacks: StackRendering?,
                    to out: inout JSONWriter) {
        if let stacks {
            stacks.write(key: key, value: value, codec: self, format: format, to: &out)
        } else {
            writeValue(value, format: format, to: &out)
        }
    }
}
