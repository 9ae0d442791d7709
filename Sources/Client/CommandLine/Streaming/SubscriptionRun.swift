import ArgumentParser
import BpfleetShared
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What `map watch` and `events tail` share: subscribe on every node at
/// once, show what each sends through one presenter, and stop cleanly —
/// on Ctrl-C (or SIGTERM), after `--duration`, when each node has shown
/// `--count`, or when every node's subscription has ended. Each node that
/// was still subscribed is asked to cancel before its connection closes.
///
/// A node is ok when it was subscribed and ended normally (the node ended
/// the subscription, or the run was stopped), failed when it could not be
/// subscribed or lost its connection, unreachable when no connection could
/// be made. The exit status is every command's: 0 all ok, 1 none, 2 some
/// (`FanOutSummary.exitStatus`); with `-o table` and several nodes a
/// summary line ends stderr.
struct SubscriptionRun {
    var options: GlobalOptions
    /// The subscribing method, for naming a server error.
    var method: String
    /// Per node, the most units (notifications or records) to show.
    var count: Int?
    var duration: Duration?
    var subscribe: @Sendable (NodeConnection) async throws -> Subscription

    /// Where output goes, as file descriptors (tests give files).
    struct Outputs: Sendable {
        var output: Int32 = STDOUT_FILENO
        var errors: Int32 = STDERR_FILENO
    }

    /// How long a node may take to answer `subscription.cancel` at the end.
    static let cancelLimit = Duration.seconds(2)

    enum NodeEnd: Sendable, Equatable {
        case ended, counted, stopped
        case failed(NodeStatus)

        var status: NodeStatus {
            if case .failed(let status) = self { return status }
            return .ok
        }
    }

    func run(outputs: Outputs = Outputs(),
             presenter makePresenter: ([NodeTarget], Outputs) -> any StreamPresenter) async throws {
        let plan: GlobalOptions.Plan
        do {
            plan = try options.plan()
        } catch {
            let errors = StandardStream(descriptor: outputs.errors)
            errors.write("bpfleet: \(error)\n")
            errors.flush()
            throw ExitCode.validationFailure
        }
        let nodes = plan.targets
        let fanOut = plan.fanOut
        let presenter = makePresenter(nodes, outputs)
        let restore = presenter.emergencyRestore
        let desk = StreamDesk(presenter: presenter, nodes: nodes.count, count: count)
        let control = RunControl(nodes: nodes.count)

        let signals = SignalTrap([SIGINT, SIGTERM, SIGWINCH]) { number in
            if number == SIGWINCH {
                Task { await desk.draw() }
            } else if control.isStopping {
                // A second Ctrl-C: the nodes are not answering the cancel.
                restore?()
                _exit(130)
            } else {
                control.stopAll()
            }
        }
        defer { signals.release() }

        await desk.begin()
        let timer = duration.map { duration in
            Task {
                try? await Task.sleep(for: duration)
                if !Task.isCancelled { control.stopAll() }
            }
        }
        let gate = ConnectGate(plan.fanOut.concurrency)
        let subscribe = self.subscribe
        let method = self.method
        let ends = await withTaskGroup(of: NodeEnd.self) { group in
            for (index, node) in nodes.enumerated() {
                group.addTask {
                    await Self.follow(node: node, index: index, fanOut: fanOut, method: method, gate: gate,
                                      desk: desk, control: control, subscribe: subscribe)
                }
            }
            return await group.reduce(into: [NodeEnd]()) { $0.append($1) }
        }
        timer?.cancel()
        await desk.finish()
        var summary = FanOutSummary()
        for end in ends { summary.add(end.status) }
        if options.output.isForPeople, nodes.count > 1 {
            let errors = StandardStream(descriptor: outputs.errors)
            errors.write("bpfleet: \(summary)\n")
            errors.flush()
        }
        if summary.exitStatus != 0 { throw ExitCode(summary.exitStatus) }
    }

    /// One node from connecting to closing.
    private static func follow(
        node: NodeTarget, index: Int, fanOut: FanOut, method: String, gate: ConnectGate,
        desk: StreamDesk, control: RunControl,
        subscribe: @escaping @Sendable (NodeConnection) async throws -> Subscription
    ) async -> NodeEnd {
        let setup = Task { () async throws -> (NodeConnection, Subscription) in
            await gate.enter()
            do {
                try Task.checkCancellation()
                let connection = try await fanOut.connect(to: node)
                do {
                    let subscription = try await withTimeout(fanOut.timeout, waitingFor: node.address) {
                        try await MethodFailure.naming(method) { try await subscribe(connection) }
                    }
                    await gate.leave()
                    return (connection, subscription)
                } catch {
                    await connection.close()
                    throw error
                }
            } catch {
                await gate.leave()
                throw error
            }
        }
        control.starting(index) { setup.cancel() }

        let connection: NodeConnection
        let subscription: Subscription
        do {
            (connection, subscription) = try await setup.value
        } catch {
            control.done(index)
            if control.isStopping { return .stopped }
            await desk.failed(node: index, error: error)
            return .failed(NodeStatus(failure: error))
        }
        guard control.running(index, subscription) else {
            // Stopped while subscribing.
            control.done(index)
            _ = try? await withTimeout(cancelLimit, waitingFor: node.address) { try await subscription.cancel() }
            await connection.close()
            return .stopped
        }

        await desk.subscribed(node: index)
        var end = NodeEnd.stopped
        do {
            for try await notification in subscription {
                if notification.isEnd {
                    await desk.ended(node: index, notification: notification)
                    end = .ended
                    break
                }
                if await !desk.show(notification, node: index) {
                    end = .counted
                    break
                }
            }
        } catch {
            await desk.failed(node: index, error: error)
            end = .failed(.failed)
        }
        control.done(index)
        // Exactly one of the two is true when the node still holds it:
        // interrupted by a stop, or left here after --count.
        if control.takeOwedCancel(index) || (end == .counted && subscription.interrupt()) {
            _ = try? await withTimeout(cancelLimit, waitingFor: node.address) { try await subscription.requestCancel() }
        }
        await connection.close()
        return end
    }
}
