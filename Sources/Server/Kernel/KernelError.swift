import BpfleetShared

/// What went wrong in the kernel layer (Kernel/), said in the layer's own
/// terms: no JSON-RPC codes here. `ResponseError(_:)`
/// (KernelError+Wire.swift) is the one place one becomes a wire error,
/// where the call leaves this layer.
enum KernelError: Error, Sendable {
    /// The verifier refused `program`: its whole log, the errno of the load,
    /// and whether the log filled its buffer (ENOSPC) before the end.
    case verifierRejected(program: String, log: String, errno: Int32, truncated: Bool)
    /// Loading an object failed without a verifier log: libbpf's messages.
    case loadFailed(errno: Int32, libbpf: String)
    /// The kernel refused `program` before its verifier looked at it (a
    /// log of nothing but the statistics line): the program type or attach
    /// point is not allowed here.
    case programRefused(program: String, section: String, errno: Int32, libbpf: String)
    /// The kernel refused to create `map` (named as operators name it)
    /// during a load; libbpf's messages.
    case mapCreateFailed(map: String, errno: Int32, libbpf: String)
    /// A program's section names `target` (a kernel function or BTF
    /// tracepoint) that the kernel's BTF does not have, so it cannot load.
    case missingAttachTarget(program: String, section: String, target: String, libbpf: String)
    /// A feature this kernel (or bpfleetd) lacks, named by `feature`.
    case unsupported(feature: String, message: String)
    /// A kernel call failed: what was done, and the errno it failed with.
    case failed(operation: String, errno: Int32)
    /// libbpf or libelf could not make sense of an object; libbpf's messages.
    case invalidObject(message: String, libbpf: String)
    /// The kernel refused to attach `program` to `target`; `reason`, when
    /// known, says why better than the errno does.
    case attachFailed(program: String, section: String, target: AttachTarget, errno: Int32, libbpf: String, reason: String?)
    /// The request asks for something this layer cannot do with what it was
    /// given (a target's field, a map operation): a parameter error; `data`
    /// names the field.
    case invalidArgument(message: String, data: [String: JSONValue]? = nil)
    /// A bound of this layer's was reached: which, and its value.
    case limitExceeded(limit: String, value: Int, message: String)
    /// A map entry exists where it must not (`BPF_NOEXIST`).
    case entryExists(message: String)
    /// A map entry does not exist where it must.
    case entryMissing(message: String)

    /// The errno the kernel answered, where there was one.
    var errno: Int32? {
        switch self {
        case .verifierRejected(_, _, let code, _), .loadFailed(let code, _), .failed(_, let code), .mapCreateFailed(_, let code, _): code
        case .programRefused(_, _, let code, _): code
        case .attachFailed(_, _, _, let code, _, _): code
        default: nil
        }
    }

    /// A parameter error naming one field.
    static func invalidField(_ message: String, field: String) -> KernelError {
        .invalidArgument(message: message, data: ["field": .string(field)])
    }
}
