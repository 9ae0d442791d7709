import BpfleetShared

extension ProbeRegistry {
    /// `probe.load`'s `metrics`, before the object helper loads anything:
    /// their shape, and that each names a map of the object. The fields are
    /// checked against the maps' BTF once the maps exist.
    func checkExportShape(_ metrics: [MetricExport]?, maps: [String]) throws(ResponseError) {
        guard let metrics else { return }
        do {
            try MetricExport.checkShape(metrics)
        } catch {
            throw .invalidParams(error.description, field: error.field)
        }
        for (index, export) in metrics.enumerated() where !maps.contains(export.map) {
            throw .invalidParams("metrics[\(index)].map: the object has no map '\(export.map)' (maps: \(maps.joined(separator: ", ")))",
                                 field: "metrics[\(index)].map")
        }
    }

    /// A metric name another probe exports must be of the same kind: one
    /// name is one family in the exposition.
    func checkExportKinds(_ probe: LoadedProbe) throws(ResponseError) {
        for (index, export) in probe.exports.enumerated() {
            for other in probes.values.sorted(by: { $0.name < $1.name }) where other.name != probe.name {
                guard let clash = other.exports.first(where: { $0.name == export.name && $0.kind != export.kind }) else { continue }
                throw .conflict("metrics[\(index)].name: probe '\(other.name)' exports '\(export.name)' as a \(clash.kind.rawValue), not a \(export.kind.rawValue)",
                                ["field": .string("metrics[\(index)].name"), "probe": .string(other.name), "metric": .string(export.name)])
            }
        }
    }

    /// What a scrape reads: each probe's exports (of `probe` alone, when
    /// given) with their maps' descriptors, so the reading happens outside
    /// the registry.
    func metricSources(probe only: String? = nil) -> [MapExportSource] {
        probes.values.filter { only == nil || $0.name == only }.sorted { $0.name < $1.name }.compactMap { probe in
            guard !probe.exports.isEmpty else { return nil }
            var maps: [String: ExportMap] = [:]
            for export in probe.exports {
                guard let map = probe.maps.first(where: { $0.name == export.map }) else { continue }
                maps[map.name] = ExportMap(descriptor: map.descriptor, io: map.io)
            }
            return MapExportSource(probe: probe.name, exports: probe.exports, maps: maps)
        }
    }
}
