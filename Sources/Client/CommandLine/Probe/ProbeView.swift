import BpfleetShared

/// Probes as people read them.
enum ProbeView {
    /// `probe list`: a row per probe. The spec label (a manifest's hash)
    /// is shortened as `status` shows it; `-o wide` shows the whole object
    /// id and labels, and how many metrics the probe exports.
    static func list(_ results: [NodeValue<ProbeList.Result>], _ printer: TablePrinter) {
        var rows: [(NodeTarget, [String])] = []
        for result in results {
            for probe in result.value.probes {
                let runs = probe.programs.compactMap(\.runCount)
                var cells = [
                    probe.name, printer.wide ? probe.objectId : shortObjectID(probe.objectId), probe.state ?? "-", probe.origin ?? "-",
                    String(probe.programs.count), String(probe.maps.count), String(probe.links.count),
                    runs.isEmpty ? "-" : String(runs.reduce(0, +)), DisplayText.date(probe.loadedAt),
                ]
                if printer.wide { cells.append(String(probe.metrics?.count ?? 0)) }
                cells.append(DisplayText.labels(printer.wide ? probe.labels : shortSpec(probe.labels)))
                rows.append((result.node, cells))
            }
        }
        printer.table(["NAME", "OBJECT", "STATE", "ORIGIN", "PROGRAMS", "MAPS", "LINKS", "RUNS", "LOADED"]
                      + (printer.wide ? ["METRICS"] : []) + ["LABELS"], rows)
    }

    /// Labels with the spec label's hash cut to its first 12 digits.
    static func shortSpec(_ labels: [String: String]) -> [String: String] {
        var labels = labels
        if let spec = labels[ProbeManifest.specLabel] { labels[ProbeManifest.specLabel] = ProbeDrift.short(spec) }
        return labels
    }

    static func detail(_ probe: ProbeDescription, node: NodeTarget, _ printer: TablePrinter) {
        var pairs: [(String, String)] = [
            ("probe", probe.name),
            ("object", probe.objectId),
            ("loaded", DisplayText.date(probe.loadedAt)),
            ("labels", DisplayText.labels(probe.labels)),
        ]
        for (name, value) in probe.globals.sorted(by: { $0.key < $1.key }) {
            pairs.append(("global", "\(name)=\(CompactJSON.text(value))"))
        }
        if let origin = probe.origin { pairs.append(("origin", origin)) }
        if let state = probe.state { pairs.append(("state", state)) }
        if let error = probe.restoreError { pairs.append(("restore error", error)) }
        if let signed = ObjectView.signedBy(probe.signers, policy: probe.policy) { pairs.append(("signed by", signed)) }
        printer.block(node: node, pairs)
        let timed = probe.programs.contains { $0.runTimeNs != nil }
        printer.section("programs", ["NAME", "TYPE", "ID", "TAG", "RUNS"] + (timed ? ["RUN TIME"] : []), probe.programs.map {
            [$0.name, $0.type, String($0.id), $0.tag, DisplayText.optional($0.runCount)]
                + (timed ? [$0.runTimeNs.map(DisplayText.nanoseconds) ?? "-"] : [])
        })
        printer.section("maps", ["NAME", "TYPE", "ID"], probe.maps.map { [$0.name, $0.type, String($0.id)] })
        printer.section("links", ["LINK ID", "PROGRAM", "TARGET", "KERNEL IDS", "RUNS"] + (timed ? ["RUN TIME"] : []) + ["STATE"],
                        probe.links.map { link in
            // The kernel counts runs per program: a link shows its program's.
            let program = probe.programs.first { $0.name == link.program }
            return [String(link.linkId), link.program, target(link), kernelIDs(link), DisplayText.optional(program?.runCount)]
                + (timed ? [program?.runTimeNs.map(DisplayText.nanoseconds) ?? "-"] : [])
                + [linkState(link)]
        })
    }

    /// Every kernel link id of a link (one per CPU for perf_event), or "-"
    /// when it has none (a classic tc filter, a link not in the kernel).
    static func kernelIDs(_ link: LinkDescription) -> String {
        let ids = link.ids ?? (link.id == 0 ? [] : [link.id])
        return ids.isEmpty ? "-" : ids.map(String.init).joined(separator: ",")
    }

    /// `attached`, or `missing: why` / `failed: why`; "-" from a node
    /// that does not say.
    static func linkState(_ link: LinkDescription) -> String {
        guard let state = link.state else { return "-" }
        return link.stateReason.map { "\(state): \($0)" } ?? state
    }

    static func linkCells(_ link: LinkDescription) -> [String] {
        [String(link.linkId), String(link.id), link.program, target(link)]
    }

    /// Where a link is attached: its target, or for `auto` the target the
    /// program's section named, marked `(auto)` (plain `auto` from a node
    /// that does not say, and for an lsm section).
    static func target(_ link: LinkDescription) -> String {
        guard case .auto = link.target, let resolved = link.resolvedTarget else { return link.target.description }
        return "\(resolved.description) (auto)"
    }

    /// `sha256:0123456789ab`: enough of the hash to tell objects apart.
    static func shortObjectID(_ id: String) -> String {
        guard id.hasPrefix("sha256:"), id.count > 19 else { return id }
        return String(id.prefix(19))
    }
}
