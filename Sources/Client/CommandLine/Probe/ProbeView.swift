import BpfleetShared

/// Probes as people read them.
enum ProbeView {
    static func list(_ results: [NodeValue<ProbeList.Result>], _ printer: TablePrinter) {
        var rows: [(NodeTarget, [String])] = []
        for result in results {
            for probe in result.value.probes {
                let runs = probe.programs.compactMap(\.runCount)
                rows.append((result.node, [
                    probe.name, shortObjectID(probe.objectId), String(probe.programs.count), String(probe.maps.count),
                    String(probe.links.count), runs.isEmpty ? "-" : String(runs.reduce(0, +)),
                    DisplayText.date(probe.loadedAt), DisplayText.labels(probe.labels),
                ]))
            }
        }
        printer.table(["NAME", "OBJECT", "PROGRAMS", "MAPS", "LINKS", "RUNS", "LOADED", "LABELS"], rows)
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
        printer.block(node: node, pairs)
        let timed = probe.programs.contains { $0.runTimeNs != nil }
        printer.section("programs", ["NAME", "TYPE", "ID", "TAG", "RUNS"] + (timed ? ["RUN TIME"] : []), probe.programs.map {
            [$0.name, $0.type, String($0.id), $0.tag, DisplayText.optional($0.runCount)]
                + (timed ? [$0.runTimeNs.map(DisplayText.nanoseconds) ?? "-"] : [])
        })
        printer.section("maps", ["NAME", "TYPE", "ID"], probe.maps.map { [$0.name, $0.type, String($0.id)] })
        printer.section("links", ["LINK ID", "ID", "PROGRAM", "TARGET"], probe.links.map(linkCells))
    }

    static func linkCells(_ link: LinkDescription) -> [String] {
        [String(link.linkId), String(link.id), link.program, link.target.description]
    }

    /// `sha256:0123456789ab`: enough of the hash to tell objects apart.
    static func shortObjectID(_ id: String) -> String {
        guard id.hasPrefix("sha256:"), id.count > 19 else { return id }
        return String(id.prefix(19))
    }
}
