import BpfleetShared

/// Objects as people read them.
enum ObjectView {
    static func list(_ results: [NodeValue<ObjectList.Result>], _ printer: TablePrinter) {
        var rows: [(NodeTarget, [String])] = []
        for result in results {
            for object in result.value.objects {
                rows.append((result.node, [
                    object.objectId, object.name ?? "-", DisplayText.bytes(object.size),
                    String(object.programs.count), String(object.maps.count),
                    object.usedBy.isEmpty ? "-" : object.usedBy.joined(separator: ","),
                    DisplayText.date(object.uploadedAt),
                ]))
            }
        }
        printer.table(["OBJECT ID", "NAME", "SIZE", "PROGRAMS", "MAPS", "USED BY", "UPLOADED"], rows)
    }

    static func detail(_ object: ObjectDescription, node: NodeTarget, _ printer: TablePrinter) {
        var pairs = [
            ("object", object.objectId),
            ("name", object.name ?? "-"),
            ("size", DisplayText.bytes(object.size)),
            ("uploaded", DisplayText.date(object.uploadedAt)),
            ("used by", object.usedBy.isEmpty ? "-" : object.usedBy.joined(separator: ", ")),
        ]
        if let signatures = object.signatures { pairs.append(("signatures", signatures.map(\.keyId).joined(separator: ", "))) }
        if let signed = signedBy(object.signers, policy: object.policy) { pairs.append(("signed by", signed)) }
        printer.block(node: node, pairs)
        printer.section("programs", ["NAME", "SECTION", "TYPE", "INSNS"], object.programs.map {
            [$0.name, $0.section, $0.type, String($0.instructions)]
        })
        printer.section("maps", ["NAME", "TYPE", "KEY", "VALUE", "MAX ENTRIES"], object.maps.map {
            [$0.name, $0.type, typed($0.keySize, $0.keyType), typed($0.valueSize, $0.valueType), String($0.maxEntries)]
        })
        printer.section("globals", ["NAME", "SECTION", "TYPE", "SIZE", "WRITABLE"], object.globals.map {
            [$0.name, $0.section, $0.type, String($0.size), $0.readOnly ? "no" : "yes"]
        })
    }

    /// What a node's object policy made of an object: the trusted signers'
    /// names, and `(audited)` when only `unsigned: audit` let it in; nil on
    /// a node without a policy.
    static func signedBy(_ signers: [ObjectSigner]?, policy: String?) -> String? {
        guard let policy else { return nil }
        let names = signers?.map(\.name).joined(separator: ", ") ?? ""
        let who = names.isEmpty ? "none" : names
        return policy == "audited" ? "\(who) (audited)" : who
    }

    /// "8 (struct key)" or "8": a key or value size with its BTF type.
    static func typed(_ size: UInt32, _ type: String?) -> String {
        type.map { "\(size) (\($0))" } ?? String(size)
    }
}
