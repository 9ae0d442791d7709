import BpfleetShared
import CLibBPF
import Foundation

/// The server's own version, reported by node.info.
public let bpfleetVersion = "0.1.0"

extension NodeInfo: ValueMethod {
    func handle(_ context: CallContext) async throws -> Result {
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count)
        let features = context.features
        return Result(
            hostname: String(cString: host), kernelRelease: features.kernelRelease, arch: features.arch,
            serverVersion: bpfleetVersion, libbpfVersion: "\(libbpf_major_version()).\(libbpf_minor_version())",
            btf: features.btf, programTypes: features.programTypes, mapTypes: features.mapTypes,
            attachTargets: AttachTarget.allTypes.filter { features.unsupportedTargets[$0] == nil },
            unsupportedTargets: features.unsupportedTargets.mapValues(\.reason),
            runStats: RunStatistics.enabled, startedAt: context.startedAt,
            uptimeSeconds: Date().timeIntervalSince(context.startedAt))
    }
}
