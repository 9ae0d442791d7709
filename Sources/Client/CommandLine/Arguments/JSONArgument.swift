import BpfleetShared
import Foundation

/// A value typed on the command line: JSON when it parses as JSON (`42`,
/// `{"pid":1}`, `"text"`, `true`), otherwise the text itself as a JSON
/// string, so `--global comm=bash` needs no quoting.
enum JSONArgument {
    static func value(_ text: String) -> JSONValue {
        (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .string(text)
    }
}
