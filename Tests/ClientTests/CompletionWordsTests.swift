@testable import BpfleetClient
import Testing

/// How a completion reads the command line it completes (LiveCompletion):
/// the global options wherever they stand.
@Suite("completion words")
struct CompletionWordsTests {
    @Test("the global options are read wherever they stand; the word under the cursor is left out")
    func globalOptions() throws {
        let words = ["bpfleet", "map", "lookup", "-n", "unix:/a.sock", "--format", "typed", "exec", "--node", "b", "cou", "--timeout", "3"]
        let line = try #require(CompletionWords.typed(words, completing: 10))
        #expect(line.options.node == ["unix:/a.sock", "b"])
        #expect(line.options.timeout == 3)
        #expect(line.rest == ["map", "lookup", "--format", "typed", "exec"])
        #expect(CompletionWords.before(words, completing: 10) == ["map", "lookup", "--format", "typed", "exec"])
    }

    @Test("a line the command would refuse completes nothing")
    func refused() {
        #expect(CompletionWords.typed(["bpfleet", "--cert", "c.pem", "probe", "get", ""], completing: 5) == nil)
        #expect(CompletionWords.typed(["bpfleet", "probe", "get", "-n", ""], completing: 4) == nil)
        #expect(CompletionWords.typed(["bpfleet", "-n", "'unix:/a b.sock'", "probe", "get", ""], completing: 5)?.options.node == ["unix:/a b.sock"])
    }
}
