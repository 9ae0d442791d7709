import BpfleetShared

// The node-wide inventory: blocking kernel reads and a /proc walk, done on
// the thread pool, never in the registry (which only names its own ids);
// the answers written straight as JSON (InventoryJSON.swift).

extension NodePrograms: ServedMethod {
    func serve(_ context: CallContext) async throws -> Reply {
        let owners = await context.registry.kernelOwners()
        let holders = self.holders ?? true
        return .value(RawJSON(bytes: try await context.threadPool.runIfActive {
            let links = KernelInventory.links(owners: owners, holders: nil).links
            return KernelInventory.programs(owners: owners, holders: holders ? HolderIndex(kinds: [.program]) : nil, links: links).wireBytes
        }))
    }
}

extension NodeMaps: ServedMethod {
    func serve(_ context: CallContext) async throws -> Reply {
        let owners = await context.registry.kernelOwners()
        let holders = self.holders ?? true
        return .value(RawJSON(bytes: try await context.threadPool.runIfActive {
            KernelInventory.maps(owners: owners, holders: holders ? HolderIndex(kinds: [.map]) : nil,
                                 programMaps: KernelInventory.programsByMap()).wireBytes
        }))
    }
}

extension NodeLinks: ServedMethod {
    func serve(_ context: CallContext) async throws -> Reply {
        let owners = await context.registry.kernelOwners()
        let holders = self.holders ?? true
        return .value(RawJSON(bytes: try await context.threadPool.runIfActive {
            KernelInventory.links(owners: owners, holders: holders ? HolderIndex(kinds: [.link]) : nil).wireBytes
        }))
    }
}
