import Foundation

/// The check a manifest's object passes before any node sees it: an ELF64
/// little-endian file for the BPF machine, as `clang -target bpf` makes
/// them. Only the header is read; what is inside is the nodes' to judge.
enum BPFObjectHeader {
    static let machineBPF: UInt16 = 247

    /// Why `bytes` are not a BPF ELF object, or nil when they are.
    static func problem(with bytes: Data) -> String? {
        let header = Array(bytes.prefix(64))
        guard header.count >= 4, header[0] == 0x7F, header[1] == UInt8(ascii: "E"),
              header[2] == UInt8(ascii: "L"), header[3] == UInt8(ascii: "F") else {
            return "not an ELF file (a BPF object is what clang -target bpf -c makes)"
        }
        // ELF64's header is 64 bytes; e_machine is at 18.
        guard header.count >= 64 else {
            return "a truncated ELF file (\(bytes.count) bytes, shorter than an ELF header)"
        }
        guard header[4] == 2 else {
            return "a 32-bit ELF file; BPF objects are 64-bit (clang -target bpf)"
        }
        guard header[5] == 1 else {
            return header[5] == 2
                ? "a big-endian ELF file (bpfeb); build it little-endian (clang -target bpf or bpfel)"
                : "an ELF file of unknown byte order (EI_DATA \(header[5]))"
        }
        let machine = UInt16(header[18]) | UInt16(header[19]) << 8
        guard machine == machineBPF else {
            return "an ELF file for \(machineName(machine)), not for BPF (e_machine \(machineBPF))"
        }
        return nil
    }

    private static func machineName(_ machine: UInt16) -> String {
        switch machine {
        case 3: "x86 (e_machine 3)"
        case 40: "ARM (e_machine 40)"
        case 62: "x86-64 (e_machine 62)"
        case 183: "AArch64 (e_machine 183)"
        case 243: "RISC-V (e_machine 243)"
        default: "e_machine \(machine)"
        }
    }
}
