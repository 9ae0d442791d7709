import BpfleetShared

/// Writes results for people: aligned columns and key/value lines. When
/// more than one node was asked, list rows start with the node and detail
/// blocks start with a `node` line.
final class TablePrinter {
    let stream: StandardStream
    let showsNode: Bool
    /// `-o wide`: listings add the columns that do not fit a terminal line.
    let wide: Bool
    /// Headers in bold and states in colour (`TableColour`).
    let colour: TableColour?
    private var blocks = 0

    init(stream: StandardStream, showsNode: Bool, wide: Bool = false) {
        self.stream = stream
        self.showsNode = showsNode
        self.wide = wide
        self.colour = TableColour.when(stream)
    }

    /// One table over every node's rows.
    func table(_ headers: [String], _ rows: [(node: NodeTarget, cells: [String])]) {
        if showsNode {
            columns(["NODE"] + headers, rows.map { [$0.node.description] + $0.cells })
        } else {
            columns(headers, rows.map(\.cells))
        }
    }

    /// Aligned columns under headers, two spaces apart, no trailing blanks.
    func columns(_ headers: [String], _ rows: [[String]], indent: String = "") {
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        // Columns that say how something stands are coloured by what they say.
        let coloured = Set(headers.indices.filter { TableColour.stateHeaders.contains(headers[$0]) })
        func emit(_ cells: [String], header: Bool) {
            var line = indent
            var blanks = 0
            for (index, cell) in cells.enumerated() {
                line += String(repeating: " ", count: blanks)
                if let colour, !cell.isEmpty {
                    line += header ? colour.bold(cell) : coloured.contains(index) ? colour.state(cell) : cell
                } else {
                    line += cell
                }
                blanks = index < widths.count ? widths[index] - cell.count + 2 : 2
            }
            // An empty last column leaves no blanks at the end of the line.
            while line.hasSuffix(" ") { line.removeLast() }
            line += "\n"
            stream.write(line)
        }
        emit(headers, header: true)
        for row in rows { emit(row, header: false) }
    }

    /// A detail block for one node, as key/value lines; blocks after the
    /// first start a new paragraph.
    func block(node: NodeTarget, _ pairs: [(String, String)]) {
        if blocks > 0 { stream.write("\n") }
        blocks += 1
        keyValues(showsNode ? [("node", node.description)] + pairs : pairs)
    }

    func keyValues(_ pairs: [(String, String)]) {
        let width = pairs.map(\.0.count).max() ?? 0
        for (key, value) in pairs {
            stream.write(key + String(repeating: " ", count: width - key.count + 2) + value + "\n")
        }
    }

    /// A titled sub-table inside a detail block; "(none)" when empty.
    func section(_ title: String, _ headers: [String], _ rows: [[String]]) {
        stream.write("\n\(title):\n")
        if rows.isEmpty {
            stream.write("  (none)\n")
        } else {
            columns(headers, rows, indent: "  ")
        }
    }

    /// One line about one node, e.g. a confirmation.
    func line(_ text: String, node: NodeTarget) {
        stream.write(showsNode ? "\(node)  \(text)\n" : "\(text)\n")
    }
}
