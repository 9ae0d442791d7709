import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading a small text file (PEM, YAML) with the system's reason when it
/// cannot be read.
enum TextFile {
    /// Why a file could not be read ("No such file or directory").
    struct ReadFailure: Error {
        var text: String
    }

    static func read(_ path: String) -> Result<String, ReadFailure> {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            return .failure(ReadFailure(text: "it is a directory, not a file"))
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            return .failure(ReadFailure(text: reason(error)))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return .failure(ReadFailure(text: "not UTF-8 text"))
        }
        return .success(text)
    }

    private static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if nsError.domain == NSCocoaErrorDomain {
            switch nsError.code {
            case NSFileReadNoSuchFileError: return String(cString: strerror(ENOENT))
            case NSFileReadNoPermissionError: return String(cString: strerror(EACCES))
            default: break
            }
        }
        return nsError.localizedDescription
    }
}
