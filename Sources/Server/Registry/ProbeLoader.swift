import BpfleetShared
import CBPFSupport
import CLibBPF
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
        let object = try BPFObject(elf: elf, name: objectName)
        let available = object.programs.map { String(cString: bpf_program__name($0)) }

        var selected = Set(available)
        if let wanted = request.programs {
            for (index, program) in wanted.enumerated() where !available.contains(program) {
                throw ResponseError(.notFound, "program '\(program)' is not in object \(request.objectId) (programs: \(available.joined(separator: ", ")))",
                                    data: ["kind": "program", "name": .string(program), "field": .string("programs[\(index)]")])
            }
            guard !wanted.isEmpty else { throw .invalidParams("programs: name at least one program, or leave it out for all", field: "programs") }
            selected = Set(wanted)
        }
        for program in object.programs {
            bpf_program__set_autoload(program, selected.contains(String(cString: bpf_program__name(program))))
        }

        try writeGlobals(request.globals ?? [:], into: object)
        // Before the kernel allocates anything; kept maps exist already.
        let budget = KernelMemoryBudget(limit: spec.maxProbeMemory, possibleCPUs: Int(libbpf_num_possible_cpus()),
                                        pageSize: UInt64(max(sysconf(Int32(_SC_PAGESIZE)), 1)))
        try budget.check(object.budgetedMaps, reused: Set(spec.reuse.keys))

        // Names before reuse: bpf_map__reuse_fd renames the map to the
        // kernel's (truncated) name.
        let names = object.maps.map(BPFObject.displayName)
        for (index, map) in object.maps.enumerated() {
            guard let path = spec.reuse[names[index]] else { continue }
            let fd = bpf_obj_get(path)
            guard fd >= 0 else { throw .kernel("open the kept map \(names[index]) at \(path)", errno: currentErrno()) }
            // libbpf takes a duplicate of the descriptor.
            defer { close(fd) }
            guard bpf_map__reuse_fd(map, fd) == 0 else {
                throw .kernel("reuse map \(names[index])", errno: currentErrno())
            }
        }

        let log = UnsafeMutablePointer<CChar>.allocate(capacity: logBufferSize)
        defer { log.deallocate() }
        log[0] = 0
        for program in object.programs where bpf_program__autoload(program) {
            bpf_program__set_log_buf(program, log, logBufferSize)
        }
        bpfleet_libbpf_messages_reset()
        let rc = bpf_object__load(object.handle)
        if rc != 0 {
            let code = rc < 0 ? -rc : currentErrno()
            let verifierLog = String(cString: log)
            let messages = takeLibbpfMessages()
            let failed = object.programs.first { bpf_program__autoload($0) && bpf_program__fd($0) < 0 }
            if !verifierLog.isEmpty, let failed {
                let name = String(cString: bpf_program__name(failed))
                // The reason is at the end, before the closing statistics.
                let lines = verifierLog.split(separator: "\n", omittingEmptySubsequences: true)
                    .filter { !$0.hasPrefix("processed ") && !$0.hasPrefix("verification time") }
                let short = lines.suffix(2).joined(separator: "; ")
                throw ResponseError(
                    .verifierRejected, "the verifier rejected program '\(name)': \(short)",
                    data: ["program": .string(name), "log": .string(verifierLog), "errno": .int(Int64(code)),
                           "errnoName": .string(errnoName(code))])
            }
            if code == EPERM || code == EACCES {
                throw ResponseError(.kernelError, "the kernel refused the load: \(errnoText(code)) (bpfleetd needs CAP_BPF and CAP_PERFMON, or root)",
                                    data: ["errno": .int(Int64(code)), "errnoName": .string(errnoName(code)), "operation": "load", "libbpf": .string(messages)])
            }
            throw ResponseError(.kernelError, "loading the object failed: \(errnoText(code)) (\(errnoName(code)))\(messages.split(separator: "\n").last.map { ": \($0)" } ?? "")",
                                data: ["errno": .int(Int64(code)), "errnoName": .string(errnoName(code)), "operation": "load", "libbpf": .string(messages)])
        }

        let maps = try pinMaps(of: object, under: spec.pinDirectory, names: names)
        let programs = try pinPrograms(of: object, under: spec.pinDirectory, maps: maps)
        return HelperReply.Loaded(programs: object.programFacts.filter { programs.contains($0.name) }, maps: maps.map(\.name))
    }

    /// Pins every loaded program at `DIR/programs/NAME`, so that a
    /// restarted bpfleetd finds them again (adoption); on failure removes
    /// every pin of the probe.
    private func pinPrograms(of object: BPFObject, under directory: String, maps: [PinnedMap]) throws(ResponseError) -> [String] {
        var pinned: [String] = []
        func undo() {
            for program in pinned { unlink("\(directory)/programs/\(program)") }
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
        for program in object.programs where bpf_program__fd(program) >= 0 {
            let name = String(cString: bpf_program__name(program))
            let path = "\(directory)/programs/\(name)"
            // bpf_obj_pin, not bpf_program__pin: the latter keeps the path
            // in libbpf's program and would unpin it when the object closes.
            guard bpf_obj_pin(bpf_program__fd(program), path) == 0 else {
                let code = currentErrno()
                undo()
                throw .kernel("pin program \(name) at \(path)", errno: code)
            }
            pinned.append(name)
        }
        return pinned
    }

    /// Writes each given global into its section's initial image, which
    /// libbpf hands to the kernel at load (`.rodata` then becomes frozen).
    private func writeGlobals(_ globals: [String: JSONValue], into object: BPFObject) throws(ResponseError) {
        guard !globals.isEmpty else { return }
        let slots = object.globalSlots()
        for (name, value) in globals.sorted(by: { $0.key < $1.key }) {
            guard let slot = slots.first(where: { $0.description.name == name }) else {
                let known = slots.map(\.description.name)
                throw ResponseError(.invalidParams, "globals.\(name): the object has no such global variable (globals: \(known.isEmpty ? "none" : known.joined(separator: ", ")))",
                                    data: ["field": .string("globals.\(name)")])
            }
            var size = 0
            guard let image = bpf_map__initial_value(slot.map, &size),
                  slot.description.offset + slot.description.size <= size else {
                throw ResponseError(.internalError, "globals.\(name): the section \(slot.description.section) has no initial image")
            }
            // libbpf hands out its pre-load image as const; before load it is
            // exactly the buffer meant to be edited (what skeletons write to).
            let target = UnsafeMutableRawBufferPointer(
                start: UnsafeMutableRawPointer(mutating: image) + slot.description.offset, count: slot.description.size)
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

    private func pinMaps(of object: BPFObject, under directory: String, names: [String]) throws(ResponseError) -> [PinnedMap] {
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
        for (index, map) in object.maps.enumerated() {
            let fd = bpf_map__fd(map)
            guard fd >= 0 else { continue }
            // bpffs refuses names that start with a dot: `.bss` pins as `_bss`.
            let path = Self.mapPinPath(names[index], under: directory)
            // bpf_obj_pin, not bpf_map__pin: nothing of libbpf's outlives
            // this process.
            if bpf_obj_pin(fd, path) != 0 {
                let code = currentErrno()
                undo()
                throw .kernel("pin map \(names[index]) at \(path)", errno: code)
            }
            pinned.append(PinnedMap(name: names[index], path: path))
        }
        return pinned
    }

    /// The pin of a map: `DIR/maps/NAME`, where bpffs's refusal of names
    /// that start with a dot makes `.bss` `_bss`.
    static func mapPinPath(_ name: String, under directory: String) -> String {
        "\(directory)/maps/\(name.hasPrefix(".") ? "_" + name.dropFirst() : Substring(name))"
    }
}
