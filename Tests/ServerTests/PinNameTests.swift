@testable import BpfleetServer
import Testing

/// The file names maps and programs pin under: what bpffs takes (no dot
/// anywhere), the same for the same name, one to one, bounded.
@Suite("pin names")
struct PinNameTests {
    @Test(arguments: [
        ("counts", "counts"),
        (".bss", "_bss"),  // as every bpfleetd before escaping pinned it
        (".rodata", "_rodata"),
        (".rodata.str1.1", "_rodata%2Estr1%2E1"),
        (".rodata.cst16", "_rodata%2Ecst16"),
        (".data.percpu", "_data%2Epercpu"),
        ("a.b", "a%2Eb"),
        ("100%", "100%25"),
        ("a/b c", "a%2Fb%20c"),
        ("é", "%C3%A9"),
        ("with-dash_and_underscore", "with-dash_and_underscore"),
    ])
    func escapes(name: String, pinned: String) {
        #expect(ProbeLoader.pinName(name) == pinned)
        #expect(!ProbeLoader.pinName(name).contains("."))
    }

    @Test func namesThatDifferPinApart() {
        let names = [".rodata.str1.1", ".rodata%2Estr1%2E1", "rodata.str1.1", "rodata%2Estr1%2E1", "a.b", "a%2Eb", "a_b", "a-b", "a b"]
        #expect(Set(names.map(ProbeLoader.pinName)).count == names.count)
        #expect(ProbeLoader.pinName(".rodata%2Estr1%2E1") == "_rodata%252Estr1%252E1")
        // `.x` and `_x` meet (the old rule, kept for the pins older servers made).
        #expect(ProbeLoader.pinName(".rodata.str1.1") == ProbeLoader.pinName("_rodata.str1.1"))
    }

    @Test func longNamesAreCutAndHashed() {
        let long = String(repeating: "x", count: 300)
        let pinned = ProbeLoader.pinName(long)
        #expect(pinned.utf8.count == 180 + 1 + 16)
        #expect(pinned.hasPrefix(String(repeating: "x", count: 180) + "~"))
        #expect(ProbeLoader.pinName(long) == pinned)
        #expect(ProbeLoader.pinName(long + "y") != pinned)
        #expect(ProbeLoader.pinName(String(repeating: "x", count: 200)) == String(repeating: "x", count: 200))
        #expect(ProbeLoader.mapPinPath(".rodata.str1.1", under: "/p/probe") == "/p/probe/maps/_rodata%2Estr1%2E1")
        #expect(ProbeLoader.programPinPath("count", under: "/p/probe") == "/p/probe/programs/count")
    }
}
