import BpfleetShared

extension ObjectUpload: ValueMethod {
    func handle(_ context: CallContext) async throws -> Result {
        try await context.registry.upload(self)
    }
}

extension ObjectList: ValueMethod {
    func handle(_ context: CallContext) async throws -> Result {
        Result(objects: await context.registry.objects())
    }
}

extension ObjectGet: ValueMethod {
    func handle(_ context: CallContext) async throws -> Result {
        try await context.registry.object(objectId)
    }
}

extension ObjectDelete: ValueMethod {
    func handle(_ context: CallContext) async throws -> Result {
        try await context.registry.deleteObject(objectId)
        return EmptyResult()
    }
}
