import Foundation

/// One screenful of `map watch` in a terminal: a title, then a section per
/// node (a heading with the node, map, seq, time and any gap; the entries
/// largest first with their rates), cut to the terminal's size. Pure text:
/// the terminal codes are added by `Terminal`.
enum LiveFrame {
    struct Section {
        /// The node as people know it.
        var node: String
        var map: String
        var state: WatchedMap?
        /// Instead of or under the table: "connecting", "ended: probe unloaded", an error.
        var note: String?
    }

    static func lines(title: String, sections: [Section], width: Int, height: Int) -> [String] {
        var lines = [title]
        let usable = max(1, height - 1)  // the last line stays free, so nothing scrolls
        // Each section costs a blank line, its heading and a column header;
        // what is left is shared out as rows.
        let overhead = sections.count * 3 + 1
        let rowsEach = max(1, (usable - overhead) / max(1, sections.count))

        for section in sections {
            lines.append("")
            lines.append(heading(section))
            guard let state = section.state, state.notifications > 0 else {
                continue
            }
            let rows = state.rows()
            let shown = rows.count > rowsEach ? Array(rows.prefix(max(0, rowsEach - 1))) : rows
            var cells = shown.map { [$0.key, $0.value, rate($0.rate)] }
            if shown.count < rows.count {
                cells.append(["… \(rows.count - shown.count) more", "", ""])
            }
            lines += columns(["KEY", "VALUE", "RATE/s"], cells, rightAligned: [2])
        }

        if lines.count > usable {
            let hidden = lines.count - usable + 1
            lines = Array(lines.prefix(usable - 1)) + ["… \(hidden) more lines (a larger terminal shows more)"]
        }
        return lines.map { clip($0, to: width) }
    }

    /// The node and map, then what happened to the subscription (so a
    /// narrow terminal still shows it), then seq, time, size and any gap.
    static func heading(_ section: Section) -> String {
        var parts = [section.node, section.map]
        if let note = section.note { parts.append(note) }
        if let state = section.state, state.notifications > 0 {
            parts.append("seq \(state.seq.map(String.init) ?? "-")")
            if let takenAt = state.takenAt { parts.append(takenAt) }
            parts.append(state.entries.count == 1 ? "1 entry" : "\(state.entries.count) entries")
            if state.lastGap > 0 {
                parts.append("gap: \(state.lastGap) skipped")
            } else if state.skipped > 0 {
                parts.append("\(state.skipped) skipped in all")
            }
        } else if section.note == nil {
            parts.append("waiting for the first snapshot")
        }
        return parts.joined(separator: "  ")
    }

    /// "1234/s" is shown as 1234; "-" when there is no rate yet.
    static func rate(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "-" }
        if value == 0 { return "0" }
        if abs(value) >= 100 { return String(format: "%.0f", value) }
        if abs(value) >= 1 { return String(format: "%.1f", value) }
        return String(format: "%.2f", value)
    }

    static func columns(_ headers: [String], _ rows: [[String]], rightAligned: Set<Int>) -> [String] {
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        return ([headers] + rows).map { cells in
            var line = ""
            for (index, cell) in cells.enumerated() {
                let pad = String(repeating: " ", count: widths[index] - cell.count)
                if index > 0 { line += "  " }
                line += rightAligned.contains(index) ? pad + cell : (index == cells.count - 1 ? cell : cell + pad)
            }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
    }

    static func clip(_ line: String, to width: Int) -> String {
        guard width > 1, line.count > width else { return line }
        return String(line.prefix(width - 1)) + "…"
    }
}
