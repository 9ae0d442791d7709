import BpfleetShared

extension ProbeLoad: ValueMethod {
    func handle(_ context: CallContext) async throws -> Result {
        // A program kind this kernel cannot load is refused by name first.
        if let object = try? await context.registry.object(objectId) {
            for program in object.programs where programs?.contains(program.name) ?? true {
                if let refusal = context.features.policyRefusal(program) ?? context.features.unloadable(program) { throw ResponseError(refusal) }
            }
        }
        try await context.registry.admit(objectId)
        let probe = await context.registry.signed(try await context.registry.load(self))
        if probe.replacedProgramIds != nil {
            // Watchers hold the old probe's maps (and with them its object) open.
            await context.hub.endAll(probe: name, reason: "probe replaced")
        }
        return probe
    }
}

extension ProbeAttach: ValueMethod {
    func handle(_ context: CallContext) async throws -> Result {
        try await context.registry.attach(self)
    }
}

extension ProbeDetach: ValueMethod {
    func handle(_ context: CallContext) async throws -> Result {
        try await context.registry.detach(self)
        return EmptyResult()
    }
}

extension ProbeUnload: ValueMethod {
    func handle(_ context: CallContext) async throws -> Result {
        // Watchers first: they hold the maps open, and are told why they end.
        await context.hub.endAll(probe: probe, reason: "probe unloaded")
        try await context.registry.unload(probe)
        return EmptyResult()
    }
}

extension ProbeList: ValueMethod {
    func handle(_ context: CallContext) async throws -> Result {
        Result(probes: await context.registry.describeProbes())
    }
}

extension ProbeGet: ValueMethod {
    func handle(_ context: CallContext) async throws -> Result {
        var description = try await context.registry.describeProbe(probe)
        // Only here: a walk of the object's BTF is too much for probe.list.
        description.recordTypes = await context.registry.recordTypes(of: probe)
        return description
    }
}
