import BpfleetShared
import Crypto
import Foundation

/// Loads one probe, in the object helper process (docs/hostile-input.md):
/// opens the object, selects programs, writes globals, runs the verifier,
/// pins the programs and maps under the pin directory it is given. Either
/// all of it is pinned or nothing of it is left in the kernel or in bpffs;
/// bpfleetd then takes the probe over from its pins (LoadedProbe.open).
struct ProbeLoader {
    /// Verifier log buffer per load; the kernel fails with ENOSPC past it,
    /// and libbpf then still returns what fit.
    var logBufferSize = 16 << 20

    /// `spec.reuse` names maps whose kernel map, by its pin, the new object
    /// takes instead of creating its own (`bpf_map__reuse_fd`; bpfleetd has
    /// checked they are compatible).
    func load(_ spec: HelperRequest.LoadSpec, elf: [UInt8], name objectName: String) throws(ResponseError) -> HelperReply.Loaded {
        let request = spec.probe
        let object = try kernelCall { () throws(KernelError) in try BPFObject(elf: elf, name: objectName) }
        let available = object.programNames

        var selected = Set(available)
        if let wanted = request.programs {
            for (index, program) in wanted.enumerated() where !available.contains(program) {
                throw ResponseError(.notFound, "program '\(program)' is not in object \(request.objectId) (programs: \(available.joined(separator: ", ")))",
                                    data: ["kind": "program", "name": .string(program), "field": .string("programs[\(index)]")])
            }
            guard !wanted.isEmpty else { throw .invalidParams("programs: name at least one program, or leave it out for all", field: "programs") }
            selected = Set(wanted)
        }
        object.select(programs: selected)

        try kernelCall { () throws(KernelError) in try object.apply(request.maps ?? [:]) }
        try writeGlobals(request.globals ?? [:], into: object)
        // Before the kernel allocates anything; kept maps exist already.
        let budget = KernelMemoryBudget(limit: spec.maxProbeMemory, possibleCPUs: possibleCPUCount(),
                                        pageSize: UInt64(max(sysconf(Int32(_SC_PAGESIZE)), 1)))
        try budget.check(object.budgetedMaps, reused: Set(spec.reuse.keys))

        // Names before reuse: bpf_map__reuse_fd renames the map to the
        // kernel's (truncated) name.
        let names = object.mapNames
        let loaded = try kernelCall { () throws(KernelError) in
            for (index, name) in names.enumerated() {
                guard let path = spec.reuse[name] else { continue }
                try object.reuseMap(at: index, named: name, pinnedAt: path)
            }
            return try LoadedObject.load(object, logBufferSize: logBufferSize)
        }

        let maps = try pinMaps(of: loaded, under: spec.pinDirectory, names: names)
        let programs = try pinPrograms(of: loaded, under: spec.pinDirectory, maps: maps)
        return HelperReply.Loaded(programs: object.programFacts.filter { programs.contains($0.name) }, maps: maps.map(\.name))
    }

    /// Pins every loaded program at `DIR/programs/NAME`, so that a
    /// restarted bpfleetd finds them again (adoption); on failure removes
    /// every pin of the probe.
    private func pinPrograms(of object: LoadedObject, under directory: String, maps: [PinnedMap]) throws(ResponseError) -> [String] {
        var pinned: [String] = []
        func undo() {
            for program in pinned { unlink(Self.programPinPath(program, under: directory)) }
            for map in maps { unlink(map.path) }
            rmdir(directory + "/programs")
            rmdir(directory + "/maps")
            rmdir(directory + "/links")
            rmdir(directory)
        }
        guard mkdir(directory + "/programs", 0o700) == 0 else {
            let code = currentErrno()
            undo()
            throw .kernel("mkdir \(directory)/programs", errno: code)
        }
        for name in object.programNames {
            do throws(KernelError) {
                try object.pinProgram(named: name, at: Self.programPinPath(name, under: directory))
            } catch {
                undo()
                throw ResponseError(error)
            }
            pinned.append(name)
        }
        return pinned
    }

    /// Writes each given global into its section's initial image, which
    /// libbpf hands to the kernel at load (`.rodata` then becomes frozen).
    func writeGlobals(_ globals: [String: JSONValue], into object: BPFObject) throws(ResponseError) {
        guard !globals.isEmpty else { return }
        let slots = object.globalSlots()
        for (name, value) in globals.sorted(by: { $0.key < $1.key }) {
            guard let slot = slots.first(where: { $0.description.name == name }) else {
                let known = slots.map(\.description.name)
                throw ResponseError(.invalidParams, "globals.\(name): the object has no such global variable (globals: \(known.isEmpty ? "none" : known.joined(separator: ", ")))",
                                    data: ["field": .string("globals.\(name)")])
            }
            guard let target = object.initialImage(of: slot) else {
                throw ResponseError(.internalError, "globals.\(name): the section \(slot.description.section) has no initial image")
            }
            let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: slot.description.size, alignment: 8)
            defer { scratch.deallocate() }
            scratch.initializeMemory(as: UInt8.self, repeating: 0)
            do throws(ValueError) {
                try ValueCodec.encode(value, as: slot.type, into: scratch, path: "globals.\(name)")
            } catch {
                throw ResponseError(.invalidParams, "\(error.path): \(error.message) (\(slot.description.type))",
                                    data: ["field": .string(error.path)])
            }
            target.copyMemory(from: UnsafeRawBufferPointer(scratch))
        }
    }

    private struct PinnedMap {
        var name: String
        var path: String
    }

    private func pinMaps(of object: LoadedObject, under directory: String, names: [String]) throws(ResponseError) -> [PinnedMap] {
        var pinned: [PinnedMap] = []
        func undo() {
            for map in pinned { unlink(map.path) }
            rmdir(directory + "/maps")
            rmdir(directory + "/links")
            rmdir(directory)
        }
        if mkdir(directory, 0o700) != 0 {
            let code = currentErrno()
            if code == EEXIST {
                throw .conflict("pin directory \(directory) already exists (left by an earlier bpfleetd?)", ["pinPath": .string(directory)])
            }
            throw .kernel("mkdir \(directory)", errno: code)
        }
        guard mkdir(directory + "/maps", 0o700) == 0, mkdir(directory + "/links", 0o700) == 0 || errno == EEXIST else {
            let code = currentErrno()
            undo()
            throw .kernel("mkdir under \(directory)", errno: code)
        }
        for index in object.mapIndices {
            // bpffs refuses names that start with a dot: `.bss` pins as `_bss`.
            let path = Self.mapPinPath(names[index], under: directory)
            do throws(KernelError) {
                try object.pinMap(at: index, named: names[index], path: path)
            } catch {
                undo()
                throw ResponseError(error)
            }
            pinned.append(PinnedMap(name: names[index], path: path))
        }
        return pinned
    }

    /// The pin of a map: `DIR/maps/PINNAME` (`pinName`).
    static func mapPinPath(_ name: String, under directory: String) -> String {
        "\(directory)/maps/\(pinName(name))"
    }

    /// The pin of a program: `DIR/programs/PINNAME` (`pinName`).
    static func programPinPath(_ name: String, under directory: String) -> String {
        "\(directory)/programs/\(pinName(name))"
    }

    /// The file name a map or program pins under (docs/state-and-pins.md).
    /// bpffs refuses a dot anywhere in a name, so: a leading `.` becomes
    /// `_` (`.bss` pins as `_bss`, as it always has), then every byte
    /// other than `A-Z a-z 0-9 _ -` becomes `%XX` (`.rodata.str1.1` pins as
    /// `_rodata%2Estr1%2E1`). A result longer than 200 bytes keeps its first
    /// 180 and adds `~` and 16 hex digits of the name's SHA-256. Adoption
    /// computes the same function from the object's names.
    static func pinName(_ name: String) -> String {
        var bytes = Array(name.utf8)
        var escaped = ""
        if bytes.first == UInt8(ascii: ".") {
            escaped = "_"
            bytes.removeFirst()
        }
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "_"), UInt8(ascii: "-"):
                escaped.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                escaped += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]], as: UTF8.self)
            }
        }
        guard escaped.utf8.count > 200 else { return escaped }
        return String(escaped.prefix(180)) + "~" + Hex.encode(SHA256.hash(data: Array(name.utf8))).prefix(16)
    }
}
