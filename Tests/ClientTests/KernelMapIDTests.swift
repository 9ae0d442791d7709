@testable import BpfleetClient
import BpfleetShared
import Testing

/// `map dump --id N` / `map watch --id N`: an exact id wins, else the one
/// id N starts; none or several are refused naming them.
@Suite("Kernel map ids")
struct KernelMapIDTests {
    @Test func anExactIdWinsOverTheIdsItStarts() throws {
        #expect(try KernelMapID.choose(83, among: [8361, 83, 8370], truncated: false) == 83)
    }

    @Test func aPrefixOfExactlyOneIdIsThatId() throws {
        #expect(try KernelMapID.choose(836, among: [8361, 8370, 12], truncated: false) == 8361)
        #expect(try KernelMapID.choose(1, among: [8361, 12], truncated: false) == 12)
    }

    @Test func aPrefixOfNoneOrOfSeveralIsRefusedNamingThem() {
        #expect {
            try KernelMapID.choose(9, among: [8361, 8370], truncated: false)
        } throws: { error in
            (error as? ResponseError)?.code == .notFound
                && (error as? ResponseError)?.message == "no map on this node has the id 9 or an id starting 9"
        }
        #expect {
            try KernelMapID.choose(9, among: [8361], truncated: true)
        } throws: { error in
            (error as? ResponseError)?.message == "no map on this node has the id 9 or an id starting 9 (of the maps node.maps listed; it lists a bounded number)"
        }
        #expect {
            try KernelMapID.choose(83, among: [8370, 8361, 12], truncated: false)
        } throws: { error in
            (error as? ResponseError)?.code == .invalidParams
                && (error as? ResponseError)?.message == "83 is the start of more than one map's id on this node: 8361, 8370 (give more of it)"
        }
    }
}
