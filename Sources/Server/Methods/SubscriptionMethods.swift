import BpfleetShared

extension MapWatch: ServedMethod {
    func serve(_ context: CallContext) async throws -> Reply {
        guard let connection = context.connection else {
            throw ResponseError(.invalidRequest, "map.watch needs a connection to send notifications on")
        }
        guard intervalMs >= Self.minimumIntervalMs else {
            throw ResponseError.invalidParams("intervalMs: at least \(Self.minimumIntervalMs)", field: "intervalMs")
        }
        let (probe, map) = try await context.registry.map(self.map)
        guard map.io.holdsEntries else {
            throw ResponseError.invalidParams(
                "map '\(map.name)' is a \(mapTypeName(map.info.type)) map: it has no entries to watch (events.subscribe streams it)", field: "map")
        }
        let id = try context.hub.reserve(for: connection)
        let watcher = MapWatcher(id: id, probe: probe, map: map, interval: .milliseconds(intervalMs), mode: mode ?? .full,
                                 format: format ?? .typed, pool: context.threadPool, sink: connection.sink)
        let hub = context.hub
        let logger = context.logger
        return .subscribed(Result(subscription: id)) {
            let task = Task {
                do {
                    try await watcher.run()
                } catch where !Task.isCancelled {
                    // The map could not be read, or the client is gone.
                    logger.debug("map watch ended", metadata: ["subscription": "\(id)", "error": "\(error)"])
                    await connection.notifyEnd(id, reason: "map read failed: \(error)")
                } catch {}
                hub.finished(id)
            }
            hub.start(id, probe: probe.name, connection: connection, task: task)
        }
    }
}

extension SubscriptionCancel: ServedMethod {
    func serve(_ context: CallContext) async throws -> Reply {
        guard let connection = context.connection, let ended = context.hub.cancel(subscription, by: connection) else {
            throw ResponseError(.notFound, "this connection has no subscription \(subscription)",
                                data: ["kind": "subscription", "subscription": .int(Int64(subscription))])
        }
        let id = subscription
        return .subscribed(EmptyResult()) {
            // After its last notification: the end is the last word.
            Task {
                await ended.value
                await connection.notifyEnd(id, reason: "cancelled")
            }
        }
    }
}
