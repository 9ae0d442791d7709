@testable import BpfleetClient
import BpfleetShared
import Testing

/// Counts operations in flight and remembers the most seen at once.
private actor InFlight {
    private(set) var now = 0
    private(set) var most = 0
    private(set) var total = 0

    func enter() {
        total += 1
        now += 1
        most = max(most, now)
    }

    func leave() { now -= 1 }
}

private func nodes(_ count: Int) -> [NodeAddress] {
    (0..<count).map { .unix(path: "/tmp/node-\($0).sock") }
}

private func index(of node: NodeAddress) -> Int {
    guard case .unix(let path) = node else { return -1 }
    return Int(path.dropFirst("/tmp/node-".count).dropLast(".sock".count))!
}

@Suite("FanOut")
struct FanOutTests {
    @Test("never more than the concurrency in flight, outcomes in the order given")
    func boundedConcurrency() async {
        let inFlight = InFlight()
        let fanOut = FanOut(concurrency: 8, timeout: .seconds(10))
        let outcomes = await fanOut.collect(nodes(200)) { node in
            await inFlight.enter()
            try await Task.sleep(for: .milliseconds(Int64(1 + index(of: node) % 5)))
            await inFlight.leave()
            return index(of: node)
        }
        #expect(await inFlight.most <= 8)
        #expect(await inFlight.most == 8)
        #expect(outcomes.map(\.index) == Array(0..<200))
        #expect(outcomes.map(\.value) == Array(0..<200))
        #expect(outcomes.map(\.node) == nodes(200))
    }

    @Test("a node that does not answer in time fails with a timeout, the rest succeed")
    func timeouts() async {
        // Long enough that an answer at once is never late on a loaded machine.
        let fanOut = FanOut(concurrency: 4, timeout: .seconds(2))
        let outcomes = await fanOut.collect(nodes(12)) { node in
            // A slow node would answer "ok" after an hour: a timedOut
            // outcome is the proof that the timeout cut it off, however
            // loaded the machine is.
            if index(of: node) % 3 == 0 { try await Task.sleep(for: .seconds(3600)) }
            return "ok"
        }
        for outcome in outcomes {
            if outcome.index % 3 == 0 {
                #expect(outcome.error as? ClientError == .timedOut(outcome.node, after: .seconds(2)))
            } else {
                #expect(outcome.value == "ok")
            }
        }
        #expect(ClientError.timedOut(.unix(path: "/x"), after: .seconds(5)).description == "timed out after 5s waiting for unix:/x")
    }

    @Test("an operation's error becomes that node's failure")
    func failures() async {
        struct Refused: Error {}
        let outcomes = await FanOut().collect(nodes(3)) { node in
            if index(of: node) == 1 { throw Refused() }
            return 1
        }
        #expect(outcomes.map(\.succeeded) == [true, false, true])
        #expect(outcomes[1].error is Refused)
    }

    @Test("completion order delivers each node as it answers")
    func completionOrder() async {
        var delivered: [Int] = []
        await FanOut(concurrency: 4).run(nodes(4), order: .completion, { node in
            // Node 0 answers last, node 3 first.
            try await Task.sleep(for: .milliseconds(Int64(40 * (4 - index(of: node)))))
            return index(of: node)
        }, deliver: { delivered.append($0.index) })
        #expect(delivered == [3, 2, 1, 0])
    }

    @Test("given order delivers in the order given, holding at most the concurrency")
    func givenOrder() async {
        let inFlight = InFlight()
        var delivered: [Int] = []
        await FanOut(concurrency: 3).run(nodes(30), order: .given, { node in
            await inFlight.enter()
            // Early nodes are the slow ones, so later outcomes wait for them.
            try await Task.sleep(for: .milliseconds(Int64(30 - index(of: node))))
            await inFlight.leave()
            return index(of: node)
        }, deliver: { outcome in
            delivered.append(outcome.index)
        })
        #expect(delivered == Array(0..<30))
        #expect(await inFlight.most <= 3)
    }

    @Test("nodes not yet started cost no task")
    func lazyStart() async {
        let inFlight = InFlight()
        var startedBeforeFirstDelivery = -1
        await FanOut(concurrency: 2).run(nodes(1000), order: .completion, { node in
            await inFlight.enter()
            await inFlight.leave()
            return index(of: node)
        }, deliver: { _ in
            if startedBeforeFirstDelivery < 0 { startedBeforeFirstDelivery = await inFlight.total }
        })
        #expect(startedBeforeFirstDelivery <= 2)
        #expect(await inFlight.total == 1000)
    }
}
