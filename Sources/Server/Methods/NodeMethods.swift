import BpfleetShared
import Foundation
import NIOCore

/// The server's own version, reported by node.info: bpfleet's.
public let bpfleetVersion = BpfleetVersion.current

extension NodeInfo: ServedMethod {
    /// Everything but the uptime is fixed at start and encoded once, so a
    /// call costs one number (node.info is what fleets poll).
    func serve(_ context: CallContext) async throws -> Reply {
        var out = JSONWriter(buffer: ByteBuffer())
        out.bytes(context.nodeFacts.openObject)
        out.raw(",\"uptimeSeconds\":")
        out.double(Date().timeIntervalSince(context.startedAt))
        out.raw("}")
        return .value(RawJSON(bytes: out.buffer))
    }
}

/// node.info's fixed part: the facts of this node and its kernel, as the
/// JSON text of an object left open at the end.
struct NodeFacts: Sendable {
    let openObject: ByteBuffer

    init(features: KernelFeatures, startedAt: Date) throws {
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count)
        let result = NodeInfo.Result(
            hostname: String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), kernelRelease: features.kernelRelease, arch: features.arch,
            serverVersion: bpfleetVersion, libbpfVersion: libbpfVersion,
            btf: features.btf, programTypes: features.programTypes, mapTypes: features.mapTypes,
            attachTargets: AttachTarget.allTypes.filter { features.unsupportedTargets[$0] == nil },
            unsupportedTargets: features.unsupportedTargets.mapValues(\.reason),
            missingFeatures: features.unsupportedTargets.mapValues(\.feature), tcx: features.tcx,
            runStats: RunStatistics.enabled, startedAt: startedAt, uptimeSeconds: 0,
            refusedProgramTypes: features.refusedProgramTypes.isEmpty ? nil : features.refusedProgramTypes)
        // Through NodeInfo.Result's own Codable form, so the field names are
        // the protocol's. With sorted keys the uptime comes last, and is
        // cut off here to be written per call.
        let encoder = JSONEncoder.wire()
        encoder.outputFormatting.insert(.sortedKeys)
        let encoded = try encoder.encode(result)
        let uptime = Data(#","uptimeSeconds":0}"#.utf8)
        guard encoded.count > uptime.count, encoded.suffix(uptime.count) == uptime else {
            throw StartupError("node.info's encoding does not end with its uptime")
        }
        var text = ByteBuffer()
        text.writeBytes(encoded.dropLast(uptime.count))
        openObject = text
    }
}

extension RPCDiscover: ServedMethod {
    /// The document is the same for the process's whole life: made at the
    /// first call, then written as those bytes.
    private static let document: Swift.Result<ByteBuffer, ShapeFailure> = {
        do {
            let contract = try Contract()
            return .success(ByteBuffer(bytes: try JSONEncoder.wire().encode(contract.openRPC)))
        } catch {
            return .failure(ShapeFailure(description: "\(error)"))
        }
    }()

    struct ShapeFailure: Error { let description: String }

    func serve(_ context: CallContext) async throws -> Reply {
        switch Self.document {
        case .success(let bytes): return .value(RawJSON(bytes: bytes))
        case .failure(let failure): throw ResponseError(.internalError, "the contract could not be made: \(failure.description)")
        }
    }
}

extension NodeMetrics: ServedMethod {
    /// The text `GET /metrics` serves, rendered now (docs/metrics.md).
    func serve(_ context: CallContext) async throws -> Reply {
        guard let metrics = context.metrics else {
            throw ResponseError(.internalError, "this server keeps no metrics")
        }
        if let probe {
            // A failed probe has no series, but it is there.
            _ = try await context.registry.describeProbe(probe)
        }
        return .value(Result(text: await context.renderMetrics(metrics, probe: probe)))
    }
}
