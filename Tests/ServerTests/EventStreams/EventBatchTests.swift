@testable import BpfleetServer
import Testing

@Suite("EventBatch")
struct EventBatchTests {
    @Test func recordsKeepTheirBytesAndOrder() {
        var batch = EventBatch()
        #expect(batch.isEmpty)
        let records: [[UInt8]] = [[1, 2, 3], [], [4], Array(repeating: 9, count: 300)]
        for record in records {
            record.withUnsafeBytes { batch.append($0) }
        }
        #expect(batch.count == 4)
        #expect(batch.byteCount == 304)
        #expect(batch.map { Array($0) } == records)
        #expect(batch.withRecord(at: 3) { $0.count } == 300)
        #expect(batch.withRecord(at: 0) { Array($0) } == [1, 2, 3])
        #expect(batch.withRecord(at: 1) { $0.count } == 0)
        #expect(batch.lost == 0)
    }

    @Test func removeAllStartsOver() {
        var batch = EventBatch()
        batch.append([1, 2])
        batch.lost = 5
        batch.removeAll(keepingCapacity: true)
        #expect(batch.isEmpty && batch.byteCount == 0 && batch.lost == 0)
        batch.append([7])
        #expect(batch.map { Array($0) } == [[7]])
    }
}
