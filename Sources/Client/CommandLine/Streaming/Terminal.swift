import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The terminal a live view draws on: whether there is one, its size, and
/// the few ANSI sequences a top-like redraw needs.
enum Terminal {
    static func isTerminal(_ descriptor: Int32) -> Bool {
        isatty(descriptor) == 1
    }

    /// Columns and rows; `$COLUMNS`/`$LINES`, else 80 by 24, when the
    /// descriptor cannot say.
    static func size(_ descriptor: Int32) -> (width: Int, height: Int) {
        var size = winsize()
        let status = withUnsafeMutablePointer(to: &size) { ioctl(descriptor, UInt(TIOCGWINSZ), $0) }
        if status == 0, size.ws_col > 0, size.ws_row > 0 {
            return (Int(size.ws_col), Int(size.ws_row))
        }
        let environment = ProcessInfo.processInfo.environment
        return (environment["COLUMNS"].flatMap { Int($0) } ?? 80, environment["LINES"].flatMap { Int($0) } ?? 24)
    }

    static let hideCursor = "\u{1B}[?25l"
    static let showCursor = "\u{1B}[?25h"
    static let home = "\u{1B}[H"
    static let clearScreen = "\u{1B}[2J"
    /// To the end of the line: a shorter line leaves nothing of the last frame.
    static let clearLine = "\u{1B}[K"
    /// Below the cursor.
    static let clearBelow = "\u{1B}[J"

    /// A frame: from the top left, each line cleared to its end, and
    /// whatever the previous frame had below cleared too.
    static func frame(_ lines: [String]) -> String {
        home + lines.map { $0 + clearLine + "\n" }.joined() + clearBelow
    }
}
