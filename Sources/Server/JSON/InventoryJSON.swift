import BpfleetShared
import Foundation
import NIOCore

// node.programs, node.maps and node.links written straight into a buffer:
// through JSONEncoder, a thousand programs cost more than reading them from
// the kernel (BENCHMARKS.md, issue 15). The bytes are JSONEncoder.wire()'s
// (keys sorted, absent optionals left out); InventoryJSONTests holds them
// to that.

extension JSONWriter {
    /// The members of one object, each key written with the comma before it.
    struct Members {
        var first = true
        mutating func key(_ name: StaticString, _ out: inout JSONWriter) {
            if !first { out.byte(UInt8(ascii: ",")) }
            first = false
            out.byte(UInt8(ascii: "\""))
            out.raw(name)
            out.raw("\":")
        }
    }

    mutating func ids(_ values: [UInt32]) {
        byte(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { byte(UInt8(ascii: ",")) }
            uint(UInt64(value))
        }
        byte(UInt8(ascii: "]"))
    }

    mutating func strings(_ values: [String]) {
        byte(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { byte(UInt8(ascii: ",")) }
            string(value)
        }
        byte(UInt8(ascii: "]"))
    }

    mutating func owner(_ owner: ProbeOwner) {
        var members = Members()
        byte(UInt8(ascii: "{"))
        if let linkId = owner.linkId { members.key("linkId", &self); int(Int64(linkId)) }
        if let name = owner.name { members.key("name", &self); string(name) }
        members.key("probe", &self); string(owner.probe)
        byte(UInt8(ascii: "}"))
    }

    mutating func holders(_ holders: [ObjectHolder]) {
        byte(UInt8(ascii: "["))
        for (index, holder) in holders.enumerated() {
            if index > 0 { byte(UInt8(ascii: ",")) }
            raw("{\"comm\":")
            string(holder.comm)
            raw(",\"pid\":")
            int(Int64(holder.pid))
            byte(UInt8(ascii: "}"))
        }
        byte(UInt8(ascii: "]"))
    }

    mutating func program(_ program: KernelProgram) {
        var members = Members()
        byte(UInt8(ascii: "{"))
        members.key("attachPoints", &self); strings(program.attachPoints)
        if let btfId = program.btfId { members.key("btfId", &self); uint(UInt64(btfId)) }
        if let holders = program.holders { members.key("holders", &self); self.holders(holders) }
        members.key("id", &self); uint(UInt64(program.id))
        members.key("instructions", &self); uint(UInt64(program.instructions))
        members.key("jitedBytes", &self); uint(UInt64(program.jitedBytes))
        members.key("linkIds", &self); ids(program.linkIds)
        members.key("loadedAt", &self); string(WireDate.string(program.loadedAt))
        members.key("mapIds", &self); ids(program.mapIds)
        members.key("name", &self); string(program.name)
        if let owner = program.owner { members.key("owner", &self); self.owner(owner) }
        members.key("runCount", &self); uint(program.runCount)
        members.key("runTimeNs", &self); uint(program.runTimeNs)
        members.key("tag", &self); string(program.tag)
        members.key("type", &self); string(program.type)
        members.key("uid", &self); uint(UInt64(program.uid))
        members.key("verifiedInstructions", &self); uint(UInt64(program.verifiedInstructions))
        byte(UInt8(ascii: "}"))
    }

    mutating func map(_ map: KernelMap) {
        var members = Members()
        byte(UInt8(ascii: "{"))
        if let btfId = map.btfId { members.key("btfId", &self); uint(UInt64(btfId)) }
        members.key("flags", &self); uint(UInt64(map.flags))
        if let holders = map.holders { members.key("holders", &self); self.holders(holders) }
        members.key("id", &self); uint(UInt64(map.id))
        members.key("keySize", &self); uint(UInt64(map.keySize))
        if let keyType = map.keyType { members.key("keyType", &self); string(keyType) }
        members.key("maxEntries", &self); uint(UInt64(map.maxEntries))
        members.key("name", &self); string(map.name)
        if let owner = map.owner { members.key("owner", &self); self.owner(owner) }
        members.key("programIds", &self); ids(map.programIds)
        members.key("type", &self); string(map.type)
        members.key("valueSize", &self); uint(UInt64(map.valueSize))
        if let valueType = map.valueType { members.key("valueType", &self); string(valueType) }
        byte(UInt8(ascii: "}"))
    }

    mutating func link(_ link: KernelLink) {
        var members = Members()
        byte(UInt8(ascii: "{"))
        members.key("attachPoint", &self); string(link.attachPoint)
        if let attachType = link.attachType { members.key("attachType", &self); string(attachType) }
        if let holders = link.holders { members.key("holders", &self); self.holders(holders) }
        members.key("id", &self); uint(UInt64(link.id))
        if let owner = link.owner { members.key("owner", &self); self.owner(owner) }
        members.key("programId", &self); uint(UInt64(link.programId))
        members.key("type", &self); string(link.type)
        byte(UInt8(ascii: "}"))
    }

    /// `{"KEY":[ITEMS],"truncated":B}`, each item by `write`.
    mutating func inventory<Item>(_ key: StaticString, _ items: [Item], truncated: Bool, _ write: (inout JSONWriter, Item) -> Void) {
        raw("{\"")
        raw(key)
        raw("\":[")
        for (index, item) in items.enumerated() {
            if index > 0 { byte(UInt8(ascii: ",")) }
            write(&self, item)
        }
        raw("],\"truncated\":")
        bool(truncated)
        byte(UInt8(ascii: "}"))
    }
}

extension NodePrograms.Result {
    var wireBytes: ByteBuffer {
        var out = JSONWriter(buffer: ByteBuffer())
        out.inventory("programs", programs, truncated: truncated) { $0.program($1) }
        return out.buffer
    }
}

extension NodeMaps.Result {
    var wireBytes: ByteBuffer {
        var out = JSONWriter(buffer: ByteBuffer())
        out.inventory("maps", maps, truncated: truncated) { $0.map($1) }
        return out.buffer
    }
}

extension NodeLinks.Result {
    var wireBytes: ByteBuffer {
        var out = JSONWriter(buffer: ByteBuffer())
        out.inventory("links", links, truncated: truncated) { $0.link($1) }
        return out.buffer
    }
}
