@testable import BpfleetServer
import BpfleetShared
import Testing

/// The records programs/execsnoop and programs/event_flood send, as their
/// objects' BTF describes them: read from the ELF, no kernel involved.
@Suite("Event record types (BTF of programs/build, no kernel)")
struct EventRecordLayoutTests {
    @Test func execEventIsDescribed() throws {
        let object = try BPFObject(elf: try Fixtures.elf("execsnoop"), name: "execsnoop")
        let btf = try #require(object.btf)
        let type = try #require(btf.type(named: "struct exec_event"))
        #expect(type == .structure(name: "exec_event", size: 284, members: [
            CType.member("pid", CType.u32, byte: 0),
            CType.member("ppid", CType.u32, byte: 4),
            CType.member("uid", CType.u32, byte: 8),
            CType.member("comm", CType.chars(16), byte: 12),
            CType.member("filename", CType.chars(256), byte: 28),
        ]))
        // The maps the readers take.
        let maps = Dictionary(uniqueKeysWithValues: object.describeMaps().map { ($0.name, $0) })
        #expect(maps["events"]?.type == "ringbuf")
        #expect(maps["events"]?.maxEntries == UInt32(256 * 1024))
        #expect(maps["perf_events"]?.type == "perf_event_array")
        #expect(Set(object.describePrograms().map(\.name)) == ["execsnoop", "execsnoop_perf"])
    }

    @Test func floodRecordIsDescribed() throws {
        let object = try BPFObject(elf: try Fixtures.elf("event_flood"), name: "event_flood")
        let type = try #require(object.btf?.type(named: "struct flood_record"))
        #expect(type == .structure(name: "flood_record", size: 16, members: [
            CType.member("seq", CType.u64, byte: 0),
            CType.member("nr", CType.u32, byte: 8),
        ]))
        let maps = Dictionary(uniqueKeysWithValues: object.describeMaps().map { ($0.name, $0) })
        #expect(maps["flood_events"]?.type == "ringbuf")
        #expect(maps["flood_events"]?.maxEntries == UInt32(4096))
        #expect(maps["flood_perf_events"]?.type == "perf_event_array")
        #expect(maps["lost"]?.type == "array")
        #expect(maps["attempts"]?.type == "array")
        let globals = Set(object.describeGlobals().map(\.name))
        #expect(globals.isSuperset(of: ["target_tgid", "target_nr", "next_seq"]))
    }

    @Test(arguments: [
        ("struct exec_event", true), ("exec_event", true), ("  struct   exec_event ", true),
        ("__u32", true), ("char", true), ("unsigned int", true), ("unsigned  int", true), ("int unsigned", false),
        ("union exec_event", false), ("enum exec_event", false), ("struct nope", false),
        ("", false), ("struct", false), ("class exec_event", false), ("struct exec_event extra", false),
    ])
    func typeNamesResolve(spelling: String, found: Bool) throws {
        let object = try BPFObject(elf: try Fixtures.elf("execsnoop"), name: "execsnoop")
        let btf = try #require(object.btf)
        #expect((btf.typeID(named: spelling) != nil) == found, "\(spelling)")
    }

    @Test func anExecRecordDecodes() throws {
        let object = try BPFObject(elf: try Fixtures.elf("execsnoop"), name: "execsnoop")
        let type = try #require(object.btf?.type(named: "struct exec_event"))
        var bytes = littleEndian(UInt64(4242), size: 4) + littleEndian(UInt64(1), size: 4) + littleEndian(UInt64(1000), size: 4)
        bytes += Array("bash".utf8) + Array(repeating: 0, count: 12)
        bytes += Array("/usr/bin/bash".utf8) + Array(repeating: 0, count: 256 - 13)
        #expect(bytes.count == 284)
        #expect(written(type, bytes) == #"{"pid":4242,"ppid":1,"uid":1000,"comm":"bash","filename":"/usr/bin/bash"}"#)
    }
}
