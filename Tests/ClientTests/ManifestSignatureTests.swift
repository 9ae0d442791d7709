@testable import BpfleetClient
import BpfleetShared
import Crypto
import Foundation
import Testing

/// A manifest's `signatures`: the files it lists, or OBJECT.sig beside the
/// object; each must be of the object's bytes.
@Suite("manifest signatures")
struct ManifestSignatureTests {
    let fixture: ManifestFixture
    let key = Curve25519.Signing.PrivateKey()

    init() throws {
        fixture = try ManifestFixture()
    }

    func sign(_ object: String, into name: String) throws -> ObjectSignature {
        let signature = try ObjectSignature(signing: try fixture.bytes(object), with: key)
        try fixture.write(name, Array(try signature.fileText().utf8))
        return signature
    }

    @Test func listedFilesAreReadRelativeToTheManifestAndSentWithTheObject() throws {
        let first = try sign("build/probe.bpf.o", into: "a.sig")
        let second = try sign("build/probe.bpf.o", into: "build/b.sig")
        let manifest = try fixture.parse("probe: p\nobject: build/probe.bpf.o\nsignatures: [a.sig, build/b.sig]\n")
        #expect(manifest.signatures == [first, second])
        #expect(manifest.objectUpload.signatures == [first, second])
        // Not part of the spec: the same manifest unsigned has the same hash.
        #expect(manifest.specHash == (try fixture.parse("probe: p\nobject: build/probe.bpf.o\n")).specHash)
    }

    @Test func withoutTheKeyTheSignatureBesideTheObjectIsSentIfThereIsOne() throws {
        #expect(try fixture.parse("probe: p\nobject: build/probe.bpf.o\n").objectUpload.signatures == nil)
        let beside = try sign("build/probe.bpf.o", into: "build/probe.bpf.o.sig")
        #expect(try fixture.parse("probe: p\nobject: build/probe.bpf.o\n").signatures == [beside])
    }

    @Test func aSignatureOfOtherBytesOrNotASignatureIsNamedAtItsLine() throws {
        _ = try sign("build/other.bpf.o", into: "other.sig")
        try fixture.write("junk.sig", Array("{\"not\": 1}\n".utf8))
        let digest = ObjectSignature.digest(of: try fixture.bytes("build/probe.bpf.o"))
        let other = ObjectSignature.digest(of: try fixture.bytes("build/other.bpf.o"))
        #expect(fixture.error("probe: p\nobject: build/probe.bpf.o\nsignatures:\n  - other.sig\n")?.description
                == "probe.yaml:4:5: signatures[0]: signature '\(fixture.directory)/other.sig': signs \(other), not this object (\(digest)): sign the object again")
        #expect(fixture.error("probe: p\nobject: build/probe.bpf.o\nsignatures: [junk.sig]\n")?.description
                == "probe.yaml:3:14: signatures[0]: signature '\(fixture.directory)/junk.sig': not a signature file as bpfleet sign writes it (JSON with format, digest, keyId, signature)")
        #expect(fixture.error("probe: p\nobject: build/probe.bpf.o\nsignatures: [none.sig]\n")?.description
                == "probe.yaml:3:14: signatures[0]: signature '\(fixture.directory)/none.sig': no such file")
        #expect(fixture.error("probe: p\nobject: build/probe.bpf.o\nsignatures: [a.sig, a.sig]\n")?.description
                == "probe.yaml:3:21: signatures[1]: 'a.sig' is listed twice (first at line 3)")
        // A stale OBJECT.sig is named too, with where it came from.
        _ = try sign("build/other.bpf.o", into: "build/probe.bpf.o.sig")
        #expect(fixture.error("probe: p\nobject: build/probe.bpf.o\n")?.description.hasSuffix(
            "signatures: signature '\(fixture.directory)/build/probe.bpf.o.sig': signs \(other), not this object (\(digest)): sign the object again (\(fixture.directory)/build/probe.bpf.o.sig is read when signatures is not given)") == true)
    }
}
