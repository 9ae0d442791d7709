@testable import BpfleetClient
import Testing

@Suite("manifest rollout batches")
struct ManifestRolloutTests {
    func batches(canary: Int = 1, _ batch: RolloutPolicy.BatchSize, nodes: Int) -> [Range<Int>] {
        RolloutPolicy(canary: canary, batch: batch).batches(nodeCount: nodes)
    }

    @Test("the defaults: one canary, then a quarter of the nodes at a time")
    func defaults() {
        #expect(RolloutPolicy().batches(nodeCount: 10) == [0..<1, 1..<4, 4..<7, 7..<10])
        #expect(RolloutPolicy().batches(nodeCount: 4) == [0..<1, 1..<2, 2..<3, 3..<4])
        #expect(RolloutPolicy().batches(nodeCount: 1) == [0..<1])
        #expect(RolloutPolicy().batches(nodeCount: 2) == [0..<1, 1..<2])
    }

    @Test("no nodes, no batches")
    func noNodes() {
        #expect(batches(.percent(25), nodes: 0) == [])
        #expect(batches(canary: 0, .count(3), nodes: 0) == [])
        #expect(batches(canary: 5, .percent(100), nodes: 0) == [])
    }

    @Test("a canary as large as the selection is the only batch")
    func canaryCoversAll() {
        #expect(batches(canary: 3, .percent(25), nodes: 3) == [0..<3])
        #expect(batches(canary: 10, .count(1), nodes: 3) == [0..<3])
        #expect(batches(canary: 3, .count(1), nodes: 4) == [0..<3, 3..<4])
    }

    @Test("canary 0: no canary batch")
    func noCanary() {
        #expect(batches(canary: 0, .count(2), nodes: 5) == [0..<2, 2..<4, 4..<5])
        #expect(batches(canary: 0, .percent(100), nodes: 5) == [0..<5])
        #expect(batches(canary: 0, .percent(50), nodes: 1) == [0..<1])
    }

    @Test("a percentage is of all selected nodes, rounded up, at least one")
    func percentages() {
        #expect(batches(.percent(1), nodes: 10) == [0..<1] + (1..<10).map { $0..<($0 + 1) })
        #expect(batches(.percent(1), nodes: 150) == [0..<1] + stride(from: 1, to: 150, by: 2).map { $0..<min($0 + 2, 150) })
        #expect(batches(.percent(100), nodes: 10) == [0..<1, 1..<10])
        #expect(batches(.percent(50), nodes: 10) == [0..<1, 1..<6, 6..<10])
        #expect(batches(.percent(33), nodes: 10) == [0..<1, 1..<5, 5..<9, 9..<10])
        #expect(batches(.percent(25), nodes: 3) == [0..<1, 1..<2, 2..<3])
        #expect(batches(canary: 2, .percent(10), nodes: 100) == [0..<2] + stride(from: 2, to: 100, by: 10).map { $0..<min($0 + 10, 100) })
    }

    @Test("a count larger than the nodes left is one batch of the rest")
    func largeCount() {
        #expect(batches(.count(50), nodes: 10) == [0..<1, 1..<10])
        #expect(batches(canary: 0, .count(50), nodes: 10) == [0..<10])
        #expect(batches(.count(3), nodes: 8) == [0..<1, 1..<4, 4..<7, 7..<8])
        #expect(batches(.count(1), nodes: 3) == [0..<1, 1..<2, 2..<3])
    }

    @Test("every batching covers each node once, in order", arguments: 0...40)
    func coverage(nodes: Int) {
        for canary in [0, 1, 2, 7, 50] {
            for batch in [RolloutPolicy.BatchSize.count(1), .count(3), .count(100), .percent(1), .percent(25), .percent(99), .percent(100)] {
                let ranges = batches(canary: canary, batch, nodes: nodes)
                #expect(ranges.flatMap { Array($0) } == Array(0..<nodes), "canary \(canary), batch \(batch)")
                #expect(ranges.allSatisfy { !$0.isEmpty })
                if canary > 0, nodes > 0 { #expect(ranges.first == 0..<min(canary, nodes)) }
                let size = RolloutPolicy(canary: canary, batch: batch).batchSize(nodeCount: nodes)
                #expect(ranges.dropFirst(canary > 0 ? 1 : 0).dropLast().allSatisfy { $0.count == size })
            }
        }
    }

    @Test("batch sizes")
    func sizes() {
        #expect(RolloutPolicy(batch: .percent(25)).batchSize(nodeCount: 0) == 1)
        #expect(RolloutPolicy(batch: .percent(25)).batchSize(nodeCount: 4) == 1)
        #expect(RolloutPolicy(batch: .percent(25)).batchSize(nodeCount: 5) == 2)
        #expect(RolloutPolicy(batch: .percent(100)).batchSize(nodeCount: 7) == 7)
        #expect(RolloutPolicy(batch: .count(4)).batchSize(nodeCount: 2) == 4)
        #expect(RolloutPolicy.BatchSize.percent(25).description == "25%")
        #expect(RolloutPolicy.BatchSize.count(3).description == "3")
    }
}
