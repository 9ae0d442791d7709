import BpfleetShared

extension MapWatch: ServedMethod {
    func serve(_ context: CallContext) async throws -> Reply {
        guard let connection = context.connection else {
            throw ResponseError(.invalidRequest, "map.watch needs a connection to send notifications on")
        }
        guard intervalMs >= Self.minimumIntervalMs else {
            throw ResponseError.invalidParams("intervalMs: at least \(Self.minimumIntervalMs)", field: "intervalMs")
        }
        let (probe, map) = try await context.mapForReading(self.map)
        guard map.io.holdsEntries else {
            throw ResponseError.invalidParams(
                "map '\(map.name)' is a \(mapTypeName(map.info.type)) map: it has no entries to watch (events.subscribe streams it)", field: "map")
        }
        // Checked now, so that a watch that cannot have its stacks is refused at once.
        if symbolize == true { _ = try StackRendering.of(map, in: probe, stackMap: stackMap) }
        let id = try context.hub.reserve(for: connection, probe: probe.name)
        let watcher = MapWatcher(id: id, probe: probe, map: map, interval: .milliseconds(intervalMs), mode: mode ?? .full,
                                 format: format ?? .typed, stacks: symbolize == true ? .symbolized(stackMap: stackMap) : .raw,
                                 pool: context.threadPool, tickers: context.hub.tickers, sink: connection.sink)
        let hub = context.hub
        let logger = context.logger
        return .subscribed(Result(subscription: id)) {
            hub.start(id, failure: "map read failed", logger: logger) { try await watcher.run() }
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

extension EventsSubscribe: ServedMethod {
    func serve(_ context: CallContext) async throws -> Reply {
        guard let connection = context.connection else {
            throw ResponseError(.invalidRequest, "events.subscribe needs a connection to send notifications on")
        }
        let (probe, map) = try await context.mapForWriting(self.map, "an event stream consumes the records it reads, and maps bpfleet does not own are read-only")
        guard EventStreams.isEventMap(map.info.type) else {
            throw ResponseError.invalidParams(
                "map '\(map.name)' is a \(mapTypeName(map.info.type)) map; events stream from a ringbuf or perf_event_array map (map.watch reads the others)",
                field: "map")
        }
        var type: BTFType?
        if let recordType {
            guard let found = probe.btf?.reader.type(named: recordType) else {
                throw ResponseError.invalidParams("recordType: the object has no BTF type '\(recordType)'\(RecordTypeNames.hint(probe.btf?.reader))",
                                                  field: "recordType")
            }
            type = found
        }
        let id = try context.hub.reserve(for: connection, probe: probe.name, eventMap: map.info.id)
        let reader: any EventStreamReader
        do {
            // Perf buffers wake the reader every 64 samples, not every one
            // (a wakeup per sample costs the traced process); the 100 ms
            // poll timeout picks up the rest.
            reader = try kernelCall { () throws(KernelError) in try EventStreams.open(mapFD: map.io.fd, perfWakeupEvents: 64) }
        } catch {
            context.hub.abandon(id)
            throw error
        }
        let streamer = EventStreamer(id: id, probe: probe, reader: reader, recordType: type, pool: context.threadPool,
                                     sink: connection.sink, queue: EventQueue(capacity: context.maxQueuedEvents), metrics: context.metrics)
        let hub = context.hub
        let logger = context.logger
        return .subscribed(Result(subscription: id)) {
            hub.start(id, failure: "event stream failed", logger: logger) { try await streamer.run() }
        }
    }
}
