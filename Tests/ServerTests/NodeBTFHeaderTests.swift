@testable import BpfleetServer
import BpfleetShared
import CLibBPF
import Testing

/// `node.btf`'s C header made from BTF built here with libbpf: vmlinux's
/// alone, a module's split BTF on top of it, the size bound, and bytes
/// libbpf refuses.
struct NodeBTFHeaderTests {
    static func raw(_ btf: OpaquePointer) -> [UInt8] {
        var size: UInt32 = 0
        guard let data = btf__raw_data(btf, &size) else { return [] }
        return Array(UnsafeRawBufferPointer(start: data, count: Int(size)))
    }

    static func header(_ body: String) -> String {
        """
        #ifndef __VMLINUX_H__
        #define __VMLINUX_H__

        #ifndef BPF_NO_PRESERVE_ACCESS_INDEX
        #pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
        #endif

        \(body)#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
        #pragma clang attribute pop
        #endif

        #endif /* __VMLINUX_H__ */

        """
    }

    /// A base ("vmlinux") of `int` and `struct task { int pid; }`, and a
    /// module's split BTF adding `struct thing { struct task *owner; int count; }`.
    static func fixture() throws -> (base: [UInt8], module: [UInt8]) {
        let base = try #require(btf__new_empty())
        defer { btf__free(base) }
        #expect(btf__add_int(base, "int", 4, 1) == 1)
        #expect(btf__add_struct(base, "task", 4) == 2)
        #expect(btf__add_field(base, "pid", 1, 0, 0) == 0)
        let module = try #require(btf__new_empty_split(base))
        defer { btf__free(module) }
        #expect(btf__add_ptr(module, 2) == 3)
        #expect(btf__add_struct(module, "thing", 16) == 4)
        #expect(btf__add_field(module, "owner", 3, 0, 0) == 0)
        #expect(btf__add_field(module, "count", 1, 64, 0) == 0)
        return (raw(base), raw(module))
    }

    @Test func vmlinuxsHeaderIsEveryTypeBetweenTheGuards() throws {
        let (base, _) = try Self.fixture()
        let source = BTFSource(module: nil, raw: base, sha256: BTFSource.hash(base), base: nil)
        let header = String(decoding: try source.header(largest: 1 << 20), as: UTF8.self)
        #expect(header == Self.header("struct task {\n\tint pid;\n};\n\n"))
    }

    @Test func aModulesHeaderIsItsSplitTypesOnTopOfVmlinuxs() throws {
        let (base, module) = try Self.fixture()
        let source = BTFSource(module: "thing", raw: module, sha256: BTFSource.hash(module),
                               base: .init(raw: base, sha256: BTFSource.hash(base)))
        let header = String(decoding: try source.header(largest: 1 << 20), as: UTF8.self)
        #expect(header == Self.header("struct task {\n\tint pid;\n};\n\nstruct thing {\n\tstruct task *owner;\n\tint count;\n};\n\n"))
    }

    @Test func aHeaderOverTheBoundIsRefused() throws {
        let (base, _) = try Self.fixture()
        let source = BTFSource(module: nil, raw: base, sha256: BTFSource.hash(base), base: nil)
        #expect(throws: ResponseError(.limitExceeded, "the C header of the vmlinux BTF is over 100 bytes",
                                      data: ["limit": "headerBytes", "value": 100])) {
            try source.header(largest: 100)
        }
    }

    @Test func bytesLibbpfRefusesAreAKernelError() throws {
        let (base, _) = try Self.fixture()
        let garbage: [UInt8] = Array(repeating: 0x5A, count: 64)
        for source in [BTFSource(module: nil, raw: garbage, sha256: BTFSource.hash(garbage), base: nil),
                       BTFSource(module: "thing", raw: garbage, sha256: BTFSource.hash(garbage),
                                 base: .init(raw: base, sha256: BTFSource.hash(base)))] {
            do {
                _ = try source.header(largest: 1 << 20)
                Issue.record("\(source.key) made a header")
            } catch {
                #expect(error.code == .kernelError)
                #expect(error.message.hasPrefix("libbpf could not parse the \(source.module ?? "vmlinux") BTF"), "\(error.message)")
            }
        }
    }
}
