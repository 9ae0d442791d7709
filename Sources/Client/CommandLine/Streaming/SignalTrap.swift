import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Catches signals (SIGINT, SIGTERM, SIGWINCH) for the length of a
/// streaming command, and gives them back to the system afterwards.
final class SignalTrap: @unchecked Sendable {
    private var sources: [(signal: Int32, source: any DispatchSourceSignal)] = []

    init(_ signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        for number in signals {
            // Ignored first, so the default action (ending the process)
            // never runs; the dispatch source still sees the signal.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(number) }
            source.resume()
            sources.append((number, source))
        }
    }

    func release() {
        for (number, source) in sources {
            source.cancel()
            signal(number, SIG_DFL)
        }
        sources.removeAll()
    }
}
