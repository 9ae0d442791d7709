import Foundation

/// `node.info`: what this node is and what its kernel can do.
public struct NodeInfo: RPCMethod {
    public static let method = "node.info"
    public init() {}

    public struct Result: Codable, Sendable, Hashable {
        public var hostname: String
        public var kernelRelease: String
        public var arch: String
        public var serverVersion: String
        public var libbpfVersion: String
        public var btf: Bool
        public var programTypes: [String]
        public var mapTypes: [String]
        /// Target types `probe.attach` serves on this node.
        public var attachTargets: [String]
        /// Target types that exist in the protocol but not on this node, with why.
        public var unsupportedTargets: [String: String]
        /// The kernel feature each unsupported target lacks, as `data.feature`
        /// of its -32008 error names it (absent from older servers).
        public var missingFeatures: [String: String]?
        /// Whether `tc` targets attach as tcx links (else as clsact filters).
        public var tcx: Bool?
        public var runStats: Bool
        public var startedAt: Date
        public var uptimeSeconds: Double

        public init(hostname: String, kernelRelease: String, arch: String, serverVersion: String, libbpfVersion: String,
                    btf: Bool, programTypes: [String], mapTypes: [String], attachTargets: [String],
                    unsupportedTargets: [String: String], missingFeatures: [String: String]? = nil, tcx: Bool? = nil,
                    runStats: Bool, startedAt: Date, uptimeSeconds: Double) {
            self.hostname = hostname
            self.kernelRelease = kernelRelease
            self.arch = arch
            self.serverVersion = serverVersion
            self.libbpfVersion = libbpfVersion
            self.btf = btf
            self.programTypes = programTypes
            self.mapTypes = mapTypes
            self.attachTargets = attachTargets
            self.unsupportedTargets = unsupportedTargets
            self.missingFeatures = missingFeatures
            self.tcx = tcx
            self.runStats = runStats
            self.startedAt = startedAt
            self.uptimeSeconds = uptimeSeconds
        }
    }
}
