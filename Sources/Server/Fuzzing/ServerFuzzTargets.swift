import BpfleetShared
import CBPFSupport
import Crypto
import CryptoExtras
import Foundation
import NIOCore

/// The server's parsers as fuzz targets (docs/fuzzing.md): each takes any
/// bytes, runs them through the same code a stranger's input reaches, and
/// must return, whatever the bytes. libFuzzer calls them (`make fuzz`), and
/// the unit tests replay every kept seed through them.
///
/// They trap (preconditionFailure) only on a broken invariant that a crash
/// would not show: JSON the value codec writes must parse.
public enum ServerFuzzTargets {
    /// The largest type the values and btf targets turn into bytes: the
    /// kernel's largest map value is far smaller.
    static let largestValue = 1 << 16
    /// The largest JSON the values target reads back.
    static let largestReadBack = 8 << 10

    // MARK: jsonrpc

    /// One line through the dispatcher's request parsing: `JSONReader`
    /// (nesting, numbers, surrogates, a batch's member limit), each
    /// request's envelope, its method, and its params decoded from the tree
    /// as the method it names and as every other method's params, as the
    /// dispatcher decodes them, with the error replies encoded. Nothing is
    /// served. The client's response scanner reads the same bytes.
    public static func jsonrpc(_ bytes: UnsafeRawBufferPointer) {
        _ = try? JSONScanner.members(of: bytes)
        let maxMembers = Configuration().maxBatchMembers
        let members: [JSONReader.Member]
        switch Dispatcher.read(bytes, maxBatchMembers: maxMembers) {
        case .failure(let error):
            _ = Dispatcher.encode(error)
            return
        case .success(.single(let member)):
            members = [member]
        case .success(.batch(let count, let batch)):
            if let error = Dispatcher.batchRefusal(count: count, maxMembers: maxMembers) {
                _ = Dispatcher.encode(error)
                return
            }
            members = batch
        }
        for member in members {
            switch Dispatcher.parse(member, methods: Dispatcher.servedMethods) {
            case .refused(_, let error):
                _ = Dispatcher.encode(error)
            case .unknown(let envelope, _):
                decodeEveryParams(envelope)
            case .call(let envelope, _, let method):
                if let error = Dispatcher.paramsRefusal(envelope) {
                    _ = Dispatcher.encode(error)
                } else {
                    decodeParams(method, envelope.params)
                }
                decodeEveryParams(envelope)
            }
        }
    }

    private static func decodeEveryParams(_ envelope: RequestEnvelope) {
        guard envelope.paramsAreObject else { return }
        for method in ProtocolV1.methods {
            decodeParams(method, envelope.params)
        }
    }

    private static func decodeParams<M: RPCMethod>(_ method: M.Type, _ params: JSONValue?) {
        do {
            let params = try Dispatcher.decodeParams(method, from: params)
            _ = (params as? any Audited)?.auditTargets
            if let load = params as? ProbeLoad {
                do throws(ResponseError) {
                    try fuzzObjectMaps.check(load.maps)
                } catch {
                    _ = Dispatcher.encode(error)
                }
                do throws(ResponseError) {
                    // Map exports against maps of every shape a field can take.
                    _ = try CompiledExport.compile(load.metrics ?? [], maps: fuzzExportMaps)
                } catch {
                    _ = Dispatcher.encode(error)
                }
            }
        } catch let error as ResponseError {
            _ = Dispatcher.encode(error)
        } catch {
            _ = "\(error)"
        }
    }

    /// Maps a `probe.load`'s settings are checked against: one of each rule's kind.
    static let fuzzObjectMaps = MapSettingsCheck(maps: [
        MapDescription(name: "a", type: "hash", keySize: 4, valueSize: 8, maxEntries: 0, keyType: nil, valueType: "__u64"),
        MapDescription(name: "b", type: "ringbuf", keySize: 0, valueSize: 0, maxEntries: 0, keyType: nil, valueType: nil),
        MapDescription(name: "comm", type: "stack_trace", keySize: 4, valueSize: 1016, maxEntries: 1024, keyType: nil, valueType: nil),
        MapDescription(name: "pid", type: "task_storage", keySize: 4, valueSize: 8, maxEntries: 0, keyType: nil, valueType: "__u64"),
        MapDescription(name: ".rodata", type: "array", keySize: 4, valueSize: 8, maxEntries: 1, keyType: nil, valueType: ".rodata"),
    ], pageSize: 4096, numaNodes: [0])

    /// Maps a `probe.load`'s exports are checked against: a struct key
    /// with every kind of member, integer keys and values, a histogram's
    /// slots, a ring buffer, a map without BTF.
    static let fuzzExportMaps: [ExportableMap] = {
        let u32 = BTFType.integer(size: 4, signed: false, char: false, bool: false)
        let u64 = BTFType.integer(size: 8, signed: false, char: false, bool: false)
        let s32 = BTFType.integer(size: 4, signed: true, char: false, bool: false)
        let key = BTFType.structure(name: "key", size: 72, members: [
            BTFMember(name: "nr", type: u32, bitOffset: 0),
            BTFMember(name: "err", type: s32, bitOffset: 32),
            BTFMember(name: "addr", type: u64, bitOffset: 64),
            BTFMember(name: "v4", type: .array(element: .integer(size: 1, signed: false, char: false, bool: false), count: 4), bitOffset: 128),
            BTFMember(name: "flag", type: u32, bitOffset: 160, bitfieldSize: 3),
            BTFMember(name: "kind", type: .enumeration(name: "k", size: 4, signed: false, cases: [BTFEnumCase(name: "A", value: 0)]), bitOffset: 192),
            BTFMember(name: "comm", type: .array(element: .integer(size: 1, signed: true, char: true, bool: false), count: 16), bitOffset: 256),
            BTFMember(name: "inner", type: .structure(name: "inner", size: 24, members: [
                BTFMember(name: "v6", type: .array(element: .integer(size: 1, signed: false, char: false, bool: false), count: 16), bitOffset: 0),
                BTFMember(name: "x", type: .float(size: 8), bitOffset: 128),
            ]), bitOffset: 384),
        ])
        let value = BTFType.structure(name: "value", size: 136, members: [
            BTFMember(name: "count", type: u64, bitOffset: 0),
            BTFMember(name: "slots", type: .array(element: u64, count: 16), bitOffset: 64),
        ])
        return [
            ExportableMap(name: "a", type: "hash", holdsEntries: true, keyType: key, valueType: value),
            ExportableMap(name: "b", type: "array", holdsEntries: true, keyType: u32, valueType: u64),
            ExportableMap(name: "c", type: "ringbuf", holdsEntries: false, keyType: nil, valueType: nil),
            ExportableMap(name: "d", type: "hash", holdsEntries: true, keyType: nil, valueType: nil),
        ]
    }()

    // MARK: roles

    /// A roles file's bytes through the reader bpfleetd starts with (and
    /// reloads on SIGHUP), then a few peers against the rules it gives.
    public static func roles(_ bytes: UnsafeRawBufferPointer) {
        guard let rules = try? RoleBook.rules(from: Data(bytes), in: "roles.yaml") else { return }
        let peers: [PeerIdentity] = [
            .unix(uid: 0, gid: 0, pid: 1, groups: []),
            .unix(uid: 1000, gid: 1000, pid: 2, groups: [27, 1000]),
            .certificate(subject: "CN=deployer", commonName: "deployer", subjectAlternativeNames: ["deployer", "10.0.0.1"]),
            .plaintext(address: "127.0.0.1"),
        ]
        for peer in peers {
            _ = rules.operators.matches(peer)
            _ = rules.viewers.matches(peer)
        }
    }

    // MARK: policy

    /// The key the policy target's `publicKeyFile: a.pub` names, made from
    /// fixed bytes: seeds can carry its real signatures.
    static let policyKey = try? Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 7, count: 32))

    /// An object policy's bytes (up to the first NUL) through the reader
    /// bpfleetd starts with and reloads on SIGHUP (`publicKeyFile: a.pub`
    /// reads a fixed key, any other file nothing); then the rest, as the
    /// JSON `signatures` of an upload, judged for the object
    /// `sha256:0...0` and for the digest the first signature names.
    public static func policy(_ bytes: UnsafeRawBufferPointer) {
        let split = bytes.firstIndex(of: 0) ?? bytes.count
        let keyText = policyKey.map { $0.publicKey.pemRepresentation }
        guard let rules = try? ObjectPolicy.rules(from: Data(bytes[..<split]), in: "policy.yaml", keyFile: { name in
            name == "a.pub" ? keyText : nil
        }) else { return }
        let rest = split < bytes.count ? Data(bytes[(split + 1)...]) : Data()
        let signatures = (try? JSONDecoder().decode([ObjectSignature].self, from: rest)) ?? []
        for digest in ["sha256:" + String(repeating: "0", count: 64)] + signatures.prefix(1).map(\.digest) {
            _ = try? ObjectPolicy.judge(digest: digest, signatures: signatures, rules: rules, path: "policy.yaml")
        }
    }

    // MARK: values

    /// A BTF type built from the first bytes (any shape `BTFReader` can
    /// produce from an object's BTF), then the value codec both ways: the next bytes
    /// as a value of that type to JSON, which must parse, and back to bytes;
    /// the rest as JSON text to bytes; and a map codec over the same type.
    public static func values(_ bytes: UnsafeRawBufferPointer) {
        var input = FuzzInput(bytes)
        var budget = 48
        var nodes = 1
        let type = input.type(depth: 0, budget: &budget, nodes: &nodes)
        let size = type.size
        guard size >= 0, size <= largestValue else { return }
        var raw = [UInt8](repeating: 0, count: size)
        for index in raw.indices { raw[index] = input.byte() }
        let jsonText = input.rest

        let codec = MapCodec(keySize: size, valueSize: size, cpus: 2, keyType: type, valueType: type)
        var writer = JSONWriter(buffer: ByteBuffer())
        raw.withUnsafeBytes { ValueCodec.write(type, $0, to: &writer) }
        let written = Data(writer.buffer.readableBytesView)
        // JSONDecoder reads a JSONValue back at microseconds an element
        // (docs/fuzzing.md, finding 3): large values are written, not read back.
        if written.count <= largestReadBack {
            guard let value = try? JSONDecoder().decode(JSONValue.self, from: written) else {
                preconditionFailure("ValueCodec.write wrote JSON that does not parse: \(String(decoding: written, as: UTF8.self))")
            }
            encode(value, as: type)
            for format in [ValueFormat.typed, .hex] {
                _ = try? codec.encodeKey(value, format: format)
                _ = try? codec.encodeValue(value, format: format)
            }
        }

        let given = try? JSONDecoder().decode(JSONValue.self, from: Data(jsonText))
        if let given { encode(given, as: type) }

        var out = JSONWriter(buffer: ByteBuffer())
        raw.withUnsafeBytes { codec.writeKey($0, format: .typed, to: &out) }
        let perCPU = [UInt8](repeating: 0x5A, count: codec.valueBufferSize)
        perCPU.withUnsafeBytes { codec.writeValue($0, format: .typed, to: &out) }
        if let given {
            for format in [ValueFormat.typed, .hex] {
                _ = try? codec.encodeKey(given, format: format)
                _ = try? codec.encodeValue(given, format: format)
            }
        }
    }

    /// Encodes into a buffer of exactly the type's size (as every caller
    /// does: map keys and values, global variables), so that the address
    /// sanitizer sees any write past it.
    private static func encode(_ value: JSONValue, as type: BTFType) {
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: type.size, alignment: 8)
        defer { out.deallocate() }
        out.initializeMemory(as: UInt8.self, repeating: 0)
        do throws(ValueError) {
            try ValueCodec.encode(value, as: type, into: out, path: "value")
        } catch {
            _ = error.description
        }
    }

    // MARK: btf

    /// Raw BTF (a `.BTF` section) through libbpf's parser, then every type
    /// id through `BTFReader`: its C spelling, its resolved type, the id
    /// its name finds, and a zeroed value of it through the value codec.
    public static func btf(_ bytes: UnsafeRawBufferPointer) {
        captureLibbpfMessages()
        guard let btf = RawBTF(bytes) else { return }
        let reader = btf.reader
        // The checks an uploaded object's BTF gets, then the reader on the
        // same types, checked or not (kernel BTF is read unchecked).
        do throws(BTFProblem) { try reader.validate() } catch { _ = error.description }
        // The struct types probe.get lists and a refused recordType names
        // (against no kernel: its names only take some away).
        _ = reader.ownStructTypes(kernel: [])
        // A corpus input stays small; this bounds one that claims more.
        let count = min(btf.typeCount, 4096)
        guard count > 1 else { return }
        for id in 1..<count {
            _ = reader.name(id)
            if let type = reader.type(id) {
                let size = type.size
                if size >= 0, size <= largestValue {
                    let zeros = [UInt8](repeating: 0, count: size)
                    var writer = JSONWriter(buffer: ByteBuffer())
                    zeros.withUnsafeBytes { ValueCodec.write(type, $0, to: &writer) }
                }
            }
            if let spelling = btf.name(of: id), !spelling.isEmpty { _ = reader.type(named: spelling) }
        }
    }

    // MARK: usdt

    /// A USDT attach's two parsers: the bytes up to the first NUL as a
    /// systemtap note's argument string (`USDTSpec.parseX86`, then the
    /// record bpfleetd writes), and the rest as the binary whose
    /// `.note.stapsdt` notes are read (libelf, through
    /// `bpfleet_usdt_sites`), for the probe `p:n` and for the one its
    /// first note names.
    public static func usdt(_ bytes: UnsafeRawBufferPointer) {
        let split = bytes.firstIndex(of: 0) ?? bytes.count
        if case .success(let spec) = USDTSpec.parseX86(String(decoding: bytes[..<split], as: UTF8.self)) {
            precondition(spec.encoded.count == USDTSpec.size, "a USDT spec record is \(USDTSpec.size) bytes")
        }
        guard split < bytes.count else { return }
        let binary = UnsafeRawBufferPointer(rebasing: bytes[(split + 1)...])
        guard let file = fopen(usdtScratch, "w") else { return }
        _ = fwrite(binary.baseAddress, 1, binary.count, file)
        fclose(file)
        var sites = [bpfleet_usdt_site](repeating: bpfleet_usdt_site(), count: 4)
        for (provider, name) in [("p", "n"), ("bpfleet", "tick")] {
            _ = bpfleet_usdt_sites(usdtScratch, provider, name, &sites, Int32(sites.count))
        }
    }

    /// Where the usdt target writes its binary: the notes are read from a file.
    static let usdtScratch = NSTemporaryDirectory() + "bpfleet-fuzz-usdt-\(getpid())"

    // MARK: symbols

    /// What stack symbolization reads that others write: the first byte
    /// picks the parser, the rest is its input. 0: /proc/kallsyms text
    /// (`KernelSymbols`); 1: /proc/PID/maps text (`ProcessMappings`); 2: a
    /// mapped file, read with libelf (`ELFSymbols`, any process may map a
    /// crafted one). Each is then asked for a few addresses.
    public static func symbols(_ bytes: UnsafeRawBufferPointer) {
        guard let selector = bytes.first else { return }
        let input = Array(bytes.dropFirst())
        let probes: [UInt64] = [0, 1, 0x1000, 0x40_1000, 0xffff_ffff_8100_0000, 0xffff_ffff_ffff_ffff]
        switch selector % 3 {
        case 0:
            let kernel = KernelSymbols(parsing: input)
            for address in probes { _ = kernel.place(of: address) }
        case 1:
            let mappings = ProcessMappings(pid: 1, parsing: input)
            for address in probes { _ = mappings.mapping(of: address) }
        default:
            let fd = open(symbolsScratch, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { return }
            unlink(symbolsScratch)  // read through the descriptor; nothing is left behind
            defer { close(fd) }
            guard input.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == input.count else { return }
            guard let file = ELFSymbols(fd: fd) else { return }
            for address in probes { _ = file.place(fileOffset: address) }
            _ = file.buildID
        }
    }

    /// Where the symbols target writes a file for libelf to read.
    static let symbolsScratch = NSTemporaryDirectory() + "bpfleet-fuzz-symbols-\(getpid())"

    // MARK: object

    /// An uploaded object's bytes through what the object helper does for
    /// `object.upload`: libbpf opens the ELF (no kernel), its BTF is
    /// checked, then its programs, maps and global variables are described;
    /// then what bpfleetd makes of the names in it: the pin names of its
    /// maps and programs, the `auto` target of each section, and a load's
    /// map settings checked against its maps.
    public static func object(_ bytes: UnsafeRawBufferPointer) {
        captureLibbpfMessages()
        do throws(ResponseError) {
            let described = try ObjectHelperProcess.describe(Array(bytes), name: "fuzz")
            for map in described.maps { _ = ProbeLoader.pinName(map.name) }
            for program in described.programs {
                _ = ProbeLoader.pinName(program.name)
                do throws(KernelError) {
                    _ = try Attacher.userSpaceTarget(section: program.section, program: program.name)
                } catch {
                    _ = Dispatcher.encode(ResponseError(error))
                }
            }
            let settings = Dictionary(described.maps.map { ($0.name, MapSettings(maxEntries: $0.maxEntries &+ 1)) }) { first, _ in first }
            try MapSettingsCheck(maps: described.maps, pageSize: 4096, numaNodes: [0]).check(settings)
        } catch {
            _ = Dispatcher.encode(error)
        }
    }
}

/// A fuzz input read as a stream of small choices; past its end every
/// choice is 0, so any input is a complete one.
struct FuzzInput {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func uint16() -> Int {
        Int(byte()) | Int(byte()) << 8
    }

    mutating func uint32() -> Int {
        uint16() | uint16() << 16
    }

    /// What is left, unread.
    var rest: [UInt8] {
        offset < bytes.count ? Array(bytes[offset...]) : []
    }

    private static let names = ["a", "b", "comm", "", "pid", "a"]
    /// Nodes a built type expands to, at most. BTFReader allows 2^20, but
    /// walking a million costs a sanitized build seconds an input; the
    /// shapes that matter show in far fewer.
    static let maxNodes = 1 << 12

    /// A BTF type of any shape `BTFReader` can hand the codec, small (at
    /// most `budget` nodes below the arrays, six levels) or large (arrays,
    /// up to `maxNodes` in all): integers of 1, 2, 4, 8 or 16 bytes,
    /// floats of any size, enums of 1, 2, 4 or 8, arrays whose size does
    /// not overflow, structs and unions whose members and bitfields (of at
    /// most 64 bits) lie inside them, laid out as a compiler would or
    /// overlapping anywhere, and opaque bytes. `nodes` counts the expanded
    /// tree, as the reader does.
    mutating func type(depth: Int, budget: inout Int, nodes: inout Int) -> BTFType {
        budget -= 1
        nodes = 1
        let choice = byte()
        let leaf = depth >= 6 || budget <= 0
        switch leaf ? choice % 3 : choice % 8 {
        case 0:
            let size = [1, 2, 4, 8, 16][Int(byte()) % 5]
            return .integer(size: size, signed: choice & 0x10 != 0, char: choice & 0x20 != 0 && size == 1, bool: choice & 0x40 != 0)
        case 1:
            return .float(size: [4, 8, 2, 16, 0, 3][Int(byte() % 6)])
        case 2:
            return .opaque(size: Int(byte() % 24))
        case 3:
            return .pointer(size: MemoryLayout<UInt>.size)
        case 4:
            var elementNodes = 1
            let element = type(depth: depth + 1, budget: &budget, nodes: &elementNodes)
            let countChoice = byte()
            var count = countChoice >= 0xF0 ? uint32() % (1 << 16) : Int(countChoice % 40)
            count = min(count, (Self.maxNodes - 1) / elementNodes - 1)
            if element.size > 0 { count = min(count, Int(UInt32.max) / element.size) }
            count = max(count, 0)
            nodes = elementNodes * count + 1
            return .array(element: element, count: count)
        case 5, 6:
            let name = Self.names[Int(byte()) % Self.names.count]
            let memberCount = Int(byte() % 6)
            let isStruct = choice % 8 == 5
            let laidOut = choice & 0x80 == 0
            var members: [BTFMember] = []
            var end = 0
            for _ in 0..<memberCount {
                let memberName = Self.names[Int(byte()) % Self.names.count]
                var memberNodes = 1
                let memberType = type(depth: depth + 1, budget: &budget, nodes: &memberNodes)
                guard nodes + memberNodes < Self.maxNodes else { break }
                nodes += memberNodes
                let widthChoice = byte()
                let bitfieldSize = widthChoice >= 0xC0 ? Int(widthChoice % 64) + 1 : 0
                let start = laidOut ? (isStruct ? end * 8 : 0) : uint16()
                members.append(BTFMember(name: memberName, type: memberType, bitOffset: start, bitfieldSize: bitfieldSize))
                let last = bitfieldSize > 0 ? (start + bitfieldSize + 7) / 8 : start / 8 + memberType.size
                end = max(end, last)
            }
            // Padding past the last member, as a compiler or hostile BTF leaves.
            let size = end + Int(byte() % 4)
            return isStruct
                ? .structure(name: name, size: size, members: members)
                : .union(name: name, size: size, members: members)
        default:
            let caseCount = Int(byte() % 5)
            var cases: [BTFEnumCase] = []
            for index in 0..<caseCount {
                let value = Int64(truncatingIfNeeded: UInt64(uint32()) << 32 | UInt64(uint32()))
                cases.append(BTFEnumCase(name: ["RED", "GREEN", "", "BLUE", "RED"][index], value: value))
            }
            let size = [4, 1, 2, 8][Int(byte() % 4)]
            return .enumeration(name: "e", size: size, signed: choice & 0x10 != 0, cases: cases)
        }
    }
}
