import BpfleetShared

// The node-wide inventory: blocking kernel reads and a /proc walk, done on
// the thread pool, never in the registry (which only names its own ids).

extension NodePrograms: ValueMethod {
    func handle(_ context: CallContext) async throws -> Result {
        let owners = await context.registry.kernelOwners()
        let holders = self.holders ?? true
        return try await context.threadPool.runIfActive {
            let links = KernelInventory.links(owners: owners, holders: nil).links
            return KernelInventory.programs(owners: owners, holders: holders ? HolderIndex(kinds: [.program]) : nil, links: links)
        }
    }
}

extension NodeMaps: ValueMethod {
    func handle(_ context: CallContext) async throws -> Result {
        let owners = await context.registry.kernelOwners()
        let holders = self.holders ?? true
        return try await context.threadPool.runIfActive {
            KernelInventory.maps(owners: owners, holders: holders ? HolderIndex(kinds: [.map]) : nil,
                                 programMaps: KernelInventory.programsByMap())
        }
    }
}

extension NodeLinks: ValueMethod {
    func handle(_ context: CallContext) async throws -> Result {
        let owners = await context.registry.kernelOwners()
        let holders = self.holders ?? true
        return try await context.threadPool.runIfActive {
            KernelInventory.links(owners: owners, holders: holders ? HolderIndex(kinds: [.link]) : nil)
        }
    }
}
