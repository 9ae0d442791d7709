import CLibBPF

/// Why an object's BTF is refused: the type id and what is wrong with it.
struct BTFProblem: Error, Equatable, CustomStringConvertible {
    var typeID: UInt32
    var message: String
    var description: String { "BTF type \(typeID): \(message)" }
}

extension BTFReader {
    /// Checks what libbpf 1.1 does not before bpfleetd reads a type: every
    /// name offset lies in the string section, every referenced type
    /// exists, and no type contains itself (a struct, array or typedef
    /// reached again by value) or refers to itself through pointers and
    /// qualifiers alone (`p -> p`, `p -> q -> p`). These are the kernel's
    /// own rules for BTF (it refuses such types at BTF_LOAD), applied
    /// before anything is loaded, in time linear in the BTF's size.
    func validate() throws(BTFProblem) {
        let count = btf__type_cnt(btf)
        guard count > 0 else { return }
        var byValue = Array(repeating: [UInt32](), count: Int(count))
        var byReference = Array(repeating: [UInt32](), count: Int(count))
        for id in 1..<count {
            guard let t = btf__type_by_id(btf, id) else { throw BTFProblem(typeID: id, message: "cannot be read") }
            try checkName(t.pointee.name_off, of: id, what: "name")
            let vlen = Int(btf_vlen(t))
            func refer(_ target: UInt32, _ what: String) throws(BTFProblem) -> UInt32 {
                guard target < count else {
                    throw BTFProblem(typeID: id, message: "\(what) refers to type \(target), past the last type (\(count - 1))")
                }
                return target
            }
            switch BTFKind(rawValue: Int(btf_kind(t))) {
            case .pointer:
                byReference[Int(id)].append(try refer(t.pointee.type, "the pointer"))
            case .typedef, .volatile, .const, .restrict, .typeTag:
                let target = try refer(t.pointee.type, "the type")
                byValue[Int(id)].append(target)
                byReference[Int(id)].append(target)
            case .variable, .declTag:
                byValue[Int(id)].append(try refer(t.pointee.type, "the type"))
            case .array:
                guard let array = btf_array(t) else { throw BTFProblem(typeID: id, message: "cannot be read") }
                byValue[Int(id)].append(try refer(array.pointee.type, "the element type"))
                _ = try refer(array.pointee.index_type, "the index type")
            case .structure, .union:
                guard let members = btf_members(t) else { throw BTFProblem(typeID: id, message: "cannot be read") }
                for index in 0..<vlen {
                    try checkName(members[index].name_off, of: id, what: "member \(index)'s name")
                    byValue[Int(id)].append(try refer(members[index].type, "member \(index)"))
                }
            case .enumeration:
                guard let values = btf_enum(t) else { throw BTFProblem(typeID: id, message: "cannot be read") }
                for index in 0..<vlen { try checkName(values[index].name_off, of: id, what: "case \(index)'s name") }
            case .enum64:
                guard let values = btf_enum64(t) else { throw BTFProblem(typeID: id, message: "cannot be read") }
                for index in 0..<vlen { try checkName(values[index].name_off, of: id, what: "case \(index)'s name") }
            case .function:
                _ = try refer(t.pointee.type, "the prototype")
            case .functionPrototype:
                _ = try refer(t.pointee.type, "the return type")
                guard let params = btf_params(t) else { throw BTFProblem(typeID: id, message: "cannot be read") }
                for index in 0..<vlen {
                    try checkName(params[index].name_off, of: id, what: "parameter \(index)'s name")
                    _ = try refer(params[index].type, "parameter \(index)")
                }
            case .datasec:
                guard let vars = btf_var_secinfos(t) else { throw BTFProblem(typeID: id, message: "cannot be read") }
                for index in 0..<vlen {
                    byValue[Int(id)].append(try refer(vars[index].type, "variable \(index)"))
                    guard UInt64(vars[index].offset) + UInt64(vars[index].size) <= UInt64(UInt32.max) else {
                        throw BTFProblem(typeID: id, message: "variable \(index) ends past 4 GiB")
                    }
                }
            case .integer, .float, .forward:
                break
            case nil:
                throw BTFProblem(typeID: id, message: "unknown kind \(btf_kind(t))")
            }
        }
        if let (id, path) = Self.firstCycle(byValue) {
            throw BTFProblem(typeID: id, message: "contains itself (\(path)): its size would be infinite")
        }
        if let (id, path) = Self.firstCycle(byReference) {
            throw BTFProblem(typeID: id, message: "refers to itself through pointers and qualifiers alone (\(path))")
        }
    }

    private func checkName(_ offset: UInt32, of id: UInt32, what: String) throws(BTFProblem) {
        let text: UnsafePointer<CChar>? = btf__name_by_offset(btf, offset)
        guard text != nil else {
            throw BTFProblem(typeID: id, message: "\(what) is at offset \(offset), outside the string section")
        }
    }

    /// The first cycle in `edges` (a depth-first search with an explicit
    /// stack, so a deep chain of types cannot overflow ours): a type on it
    /// and the ids along it, `7 -> 9 -> 7`.
    static func firstCycle(_ edges: [[UInt32]]) -> (UInt32, String)? {
        enum Mark: UInt8 { case new, open, done }
        var marks = Array(repeating: Mark.new, count: edges.count)
        var stack: [(node: Int, next: Int)] = []
        for start in edges.indices where marks[start] == .new {
            marks[start] = .open
            stack.append((start, 0))
            while let top = stack.last {
                guard top.next < edges[top.node].count else {
                    marks[top.node] = .done
                    stack.removeLast()
                    continue
                }
                stack[stack.count - 1].next += 1
                let target = Int(edges[top.node][top.next])
                switch marks[target] {
                case .new:
                    marks[target] = .open
                    stack.append((target, 0))
                case .open:
                    let from = stack.lastIndex { $0.node == target } ?? 0
                    let path = (stack[from...].map { String($0.node) } + [String(target)]).joined(separator: " -> ")
                    return (UInt32(target), path)
                case .done:
                    break
                }
            }
        }
        return nil
    }
}
