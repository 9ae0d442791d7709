import BpfleetShared
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `map watch` in a terminal: a top-like view redrawn in place, a section
/// per node. The last frame stays on the screen when the command ends, and
/// failures are repeated on stderr below it.
final class MapWatchLive: StreamPresenter {
    private let nodes: [NodeTarget]
    private let title: String
    private var sections: [LiveFrame.Section]
    private let output: StandardStream
    private let errors: StandardStream
    private let descriptor: Int32
    private var failures: [(node: Int, error: any Error)] = []

    init(nodes: [NodeTarget], map: String, title: String, outputs: SubscriptionRun.Outputs) {
        self.nodes = nodes
        self.title = title
        self.sections = nodes.map { LiveFrame.Section(node: $0.description, map: map, state: WatchedMap(), note: "connecting") }
        self.output = StandardStream(descriptor: outputs.output)
        self.errors = StandardStream(descriptor: outputs.errors)
        self.descriptor = outputs.output
    }

    var isLive: Bool { true }

    var emergencyRestore: (@Sendable () -> Void)? {
        let descriptor = self.descriptor
        return {
            let text = Terminal.showCursor + "\n"
            _ = text.withCString { write(descriptor, $0, strlen($0)) }
        }
    }

    func begin() {
        output.write(Terminal.hideCursor + Terminal.home + Terminal.clearScreen)
    }

    func subscribed(node: Int) {
        sections[node].note = nil
    }

    func show(_ notification: SubscriptionNotification, node: Int, allowance: Int?, receivedAt: Double) -> Int {
        do {
            try sections[node].state?.apply(notification.params, receivedAt: receivedAt)
        } catch {
            sections[node].note = "unreadable notification: \(error)"
        }
        return 1
    }

    func ended(node: Int, notification: SubscriptionNotification) {
        sections[node].note = "ended: \(notification.endReason)"
    }

    func failed(node: Int, error: any Error) {
        sections[node].note = "failed: \(FailureText.line(error))"
        failures.append((node, error))
    }

    func redraw() {
        draw(last: false)
    }

    private func draw(last: Bool) {
        let size = Terminal.size(descriptor)
        let lines = LiveFrame.lines(title: "\(title)  \(Self.clock())  \(last ? "stopped" : "Ctrl-C to stop")",
                                    sections: sections, width: size.width, height: size.height)
        output.write(Terminal.frame(lines))
        output.flush()
    }

    func finish() {
        draw(last: true)
        output.write(Terminal.showCursor)
        output.flush()
        for (node, error) in failures {
            errors.write("bpfleet: \(nodes[node]): \(FailureText.line(error))\n")
        }
        errors.flush()
    }

    /// The local time of day, so a frozen screen shows it is frozen.
    private static func clock() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        return String(format: "%02d:%02d:%02d", parts.tm_hour, parts.tm_min, parts.tm_sec)
    }
}
