@testable import BpfleetServer
import BpfleetShared
import Foundation
import Testing

/// The /proc walk that names the processes holding BPF objects, over a
/// made-up /proc: descriptors are symbolic links whose target says what
/// they are, fdinfo files say the id. What a process writes there it does
/// not control, but a proc-like tree given to the walk may be anything.
@Suite("Holder index")
struct HolderIndexTests {
    final class FakeProc {
        let root: String
        init() throws {
            root = NSTemporaryDirectory() + "bpfleet-fake-proc-\(UInt32.random(in: 0...UInt32.max))"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: root) }

        func process(_ pid: String, comm: String?, fds: [(fd: String, target: String, fdinfo: String?)]) throws {
            let base = root + "/" + pid
            try FileManager.default.createDirectory(atPath: base + "/fd", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: base + "/fdinfo", withIntermediateDirectories: true)
            if let comm { try (comm + "\n").write(toFile: base + "/comm", atomically: true, encoding: .utf8) }
            for (fd, target, fdinfo) in fds {
                try FileManager.default.createSymbolicLink(atPath: base + "/fd/" + fd, withDestinationPath: target)
                if let fdinfo { try fdinfo.write(toFile: base + "/fdinfo/" + fd, atomically: true, encoding: .utf8) }
            }
        }
    }

    @Test func namesEachHolderOfEachKindOnce() throws {
        let proc = try FakeProc()
        try proc.process("10", comm: "runtime", fds: [
            ("3", "anon_inode:bpf-prog", "pos:\t0\nflags:\t02000002\nprog_type:\t1\nprog_id:\t41\n"),
            ("4", "anon_inode:bpf-map", "map_type:\t2\nmap_id:\t88\n"),
            ("5", "anon_inode:bpf_link", "link_type:\tperf\nlink_id:\t12\nprog_tag:\tabcd\nprog_id:\t41\n"),
            ("6", "anon_inode:bpf-prog", "prog_id:\t41\n"),  // the same program twice: one holder
            ("7", "/dev/null", nil),
        ])
        try proc.process("11", comm: "cni", fds: [("9", "anon_inode:bpf-map", "map_id:\t88\n")])
        try proc.process("self", comm: "x", fds: [("3", "anon_inode:bpf-prog", "prog_id:\t99\n")])  // not a pid
        let all = HolderIndex(kinds: [.program, .map, .link], proc: proc.root)
        #expect(all.holders(of: .program, id: 41) == [ObjectHolder(pid: 10, comm: "runtime")])
        #expect(all.holders(of: .link, id: 12) == [ObjectHolder(pid: 10, comm: "runtime")])
        #expect(Set(all.holders(of: .map, id: 88)) == [ObjectHolder(pid: 10, comm: "runtime"), ObjectHolder(pid: 11, comm: "cni")])
        #expect(all.holders(of: .program, id: 99) == [])
        #expect(all.holders(of: .program, id: 12) == [])  // a link's prog_id is not a program held
        #expect(!all.partial)
        // Only the kinds asked for are looked at.
        let maps = HolderIndex(kinds: [.map], proc: proc.root)
        #expect(maps.holders(of: .program, id: 41) == [])
        #expect(maps.holders(of: .map, id: 88).count == 2)
    }

    @Test func malformedEntriesAreSkipped() throws {
        let proc = try FakeProc()
        try proc.process("20", comm: nil, fds: [
            ("3", "anon_inode:bpf-prog", "prog_id:\t\n"),                 // no number
            ("4", "anon_inode:bpf-prog", "prog_id:\t99999999999\n"),      // past UInt32
            ("5", "anon_inode:bpf-prog", "prog_id:\t4x\n"),               // not a number
            ("6", "anon_inode:bpf-prog", nil),                            // no fdinfo
            ("7", "anon_inode:bpf-prog-and-more", "prog_id:\t1\n"),       // not the exact target
            ("8", "anon_inode:bpf-prog", String(repeating: "x", count: 5000) + "\nprog_id:\t5\n"),  // past the 4 KiB read
            ("9", "anon_inode:bpf-prog", " prog_id:\t6\nprog_id:\t7\n"),  // the line must start with the field
        ])
        let index = HolderIndex(kinds: [.program], proc: proc.root)
        for id: UInt32 in [0, 1, 4, 5, 6, 99_999_999] { #expect(index.holders(of: .program, id: id) == [], "id \(id)") }
        #expect(index.holders(of: .program, id: 7) == [ObjectHolder(pid: 20, comm: "")])  // no comm file: empty
    }

    @Test func fieldsAndNumbers() {
        #expect(HolderIndex.field(Array("map_id:".utf8), in: ArraySlice("a:\t1\nmap_id:\t 42\nb:\t2".utf8)) == 42)
        #expect(HolderIndex.field(Array("map_id:".utf8), in: ArraySlice("map_id:\t4294967295".utf8)) == 4_294_967_295)
        #expect(HolderIndex.field(Array("map_id:".utf8), in: ArraySlice("map_id:\t4294967296".utf8)) == nil)
        #expect(HolderIndex.field(Array("map_id:".utf8), in: ArraySlice("".utf8)) == nil)
        #expect(HolderIndex.number(Array("0123".utf8)) == 123)
        #expect(HolderIndex.number(Array("12345678901".utf8)) == nil)
        #expect(HolderIndex.number([UInt8]()) == nil)
    }
}
