@testable import BpfleetClient
import Testing

/// Kubernetes label-selector syntax, read as Kubernetes reads it, and what
/// each requirement matches.
@Suite("label selectors")
struct LabelSelectorTests {
    typealias Requirement = LabelSelector.Requirement

    func parse(_ text: String) throws -> [Requirement] {
        try LabelSelector(parsing: text).requirements
    }

    /// The error's column and message, or nil when it parses.
    func error(_ text: String) -> (column: Int, message: String)? {
        do {
            _ = try LabelSelector(parsing: text)
            return nil
        } catch {
            return (error.column, error.message)
        }
    }

    @Test("every operator")
    func operators() throws {
        #expect(try parse("role=web") == [Requirement(key: "role", .equals, ["web"])])
        #expect(try parse("role==web") == [Requirement(key: "role", .equals, ["web"])])
        #expect(try parse("zone!=b") == [Requirement(key: "zone", .notEquals, ["b"])])
        #expect(try parse("zone in (a,b)") == [Requirement(key: "zone", .in, ["a", "b"])])
        #expect(try parse("zone notin (a, b)") == [Requirement(key: "zone", .notIn, ["a", "b"])])
        #expect(try parse("gpu") == [Requirement(key: "gpu", .exists)])
        #expect(try parse("!gpu") == [Requirement(key: "gpu", .doesNotExist)])
        #expect(try parse("role=web,zone!=b,gpu,!canary,tier in (1,2)") == [
            Requirement(key: "role", .equals, ["web"]),
            Requirement(key: "zone", .notEquals, ["b"]),
            Requirement(key: "gpu", .exists),
            Requirement(key: "canary", .doesNotExist),
            Requirement(key: "tier", .in, ["1", "2"]),
        ])
    }

    @Test("whitespace around every token, none needed around symbols")
    func whitespace() throws {
        let spaced = try parse("  role = web ,  zone notin ( a ,b )  , ! canary , gpu ")
        #expect(spaced == [
            Requirement(key: "role", .equals, ["web"]),
            Requirement(key: "zone", .notIn, ["a", "b"]),
            Requirement(key: "canary", .doesNotExist),
            Requirement(key: "gpu", .exists),
        ])
        #expect(try parse("zone in(a,b)") == [Requirement(key: "zone", .in, ["a", "b"])])
        #expect(try parse("\trole\t==\tweb\t") == [Requirement(key: "role", .equals, ["web"])])
    }

    @Test("Kubernetes' corners: empty values, repeated values, keywords as keys and values, the empty selector")
    func corners() throws {
        // `key=` is the empty value; `()` and a trailing comma in a set too.
        #expect(try parse("role=") == [Requirement(key: "role", .equals, [""])])
        #expect(try parse("role!=,gpu") == [Requirement(key: "role", .notEquals, [""]), Requirement(key: "gpu", .exists)])
        #expect(try parse("zone in ()") == [Requirement(key: "zone", .in, [""])])
        #expect(try parse("zone in (a,)") == [Requirement(key: "zone", .in, ["a", ""])])
        #expect(try parse("zone in (b,a,b)") == [Requirement(key: "zone", .in, ["b", "a"])])
        // in and notin are operators only where an operator goes.
        #expect(try parse("in=notin") == [Requirement(key: "in", .equals, ["notin"])])
        #expect(try parse("in in (in, notin)") == [Requirement(key: "in", .in, ["in", "notin"])])
        #expect(try parse("") == [])
        #expect(try parse("   ") == [])
        #expect(try LabelSelector(parsing: "").matches(["role": "web"]))
        #expect(try LabelSelector(parsing: "").matches([:]))
    }

    @Test("keys with a DNS prefix; Kubernetes' rules for keys and values")
    func keysAndValues() throws {
        #expect(try parse("example.com/zone=a") == [Requirement(key: "example.com/zone", .equals, ["a"])])
        #expect(try parse("!k8s.io/gpu") == [Requirement(key: "k8s.io/gpu", .doesNotExist)])
        #expect(error("a-b.c_d/Name.x-Y_z in (V1.0, v-2_b)")?.column == 1)  // '_' is not in a DNS prefix
        #expect(try parse("a-b.c/Name.x-Y_z in (V1.0, v-2_b)") == [Requirement(key: "a-b.c/Name.x-Y_z", .in, ["V1.0", "v-2_b"])])
        let longest = String(repeating: "n", count: 63)
        #expect(try parse("\(longest)=\(longest)").count == 1)

        #expect(error("Example.com/zone=a")! == (1, "'Example.com/zone' is not a valid label key: the prefix 'Example.com' must be a DNS subdomain (lowercase letters, digits, '-', and '.' between parts)"))
        #expect(error("role=web,/zone")! == (10, "'/zone' is not a valid label key: the prefix before '/' is empty"))
        #expect(error("example.com/=a")! == (1, "'example.com/' is not a valid label key: the name is empty"))
        #expect(error("a/b/c")! == (1, "'a/b/c' is not a valid label key: at most one '/', between a DNS prefix and the name"))
        #expect(error("-role=web")! == (1, "'-role' is not a valid label key: it must start and end with a letter or digit"))
        #expect(error("ro:le")! == (1, "'ro:le' is not a valid label key: only letters, digits, '-', '_' and '.' are allowed"))
        #expect(error("\(longest)n")! == (1, "'\(longest)n' is not a valid label key: longer than 63 characters"))
        #expect(error("\(String(repeating: "a", count: 254))/x")?.message.hasSuffix("the prefix is longer than 253 characters") == true)
        #expect(error("role=web_")! == (6, "'web_' is not a valid label value: it must start and end with a letter or digit"))
        #expect(error("zone in (a, b*)")! == (13, "'b*' is not a valid label value: only letters, digits, '-', '_' and '.' are allowed"))
        #expect(error("role=\(longest)x")! == (6, "'\(longest)x' is not a valid label value: longer than 63 characters"))
    }

    @Test("mistakes point at their column")
    func mistakes() {
        #expect(error(",role=web")! == (1, "expected a label key, found ','"))
        #expect(error("role=web,")! == (10, "expected a label key, found the end"))
        #expect(error("role=web,,zone")! == (10, "expected a label key, found ','"))
        #expect(error("role=web zone=a")! == (10, "expected ',' or the end of the selector, found 'zone'"))
        #expect(error("role in a")! == (9, "expected '(' after in, found 'a'"))
        #expect(error("zone notin (a")! == (14, "expected ',' or ')' after 'a', found the end"))
        #expect(error("zone notin (a b)")! == (15, "expected ',' or ')' after 'a', found 'b'"))
        #expect(error("zone in (a,=)")! == (12, "expected a value, ',' or ')', found '='"))
        #expect(error("role=(web)")! == (6, "expected a value after '=', found '('"))
        #expect(error("role===web")! == (7, "expected a value after '==', found '='"))
        #expect(error("role within (a)")! == (6, "expected an operator (=, ==, !=, in, notin), ',' or the end after 'role', found 'within'"))
        #expect(error("role(a)")! == (5, "expected an operator (=, ==, !=, in, notin), ',' or the end after 'role', found '('"))
        #expect(error("!role=web")! == (6, "'!role' takes no value: it matches nodes without the label"))
        #expect(error("!!role")! == (2, "expected a label key, found '!'"))
        #expect(error("!")! == (2, "expected a label key, found the end"))
        #expect(error("cpus>4")! == (5, "'>' is not supported: only =, ==, !=, in, notin, KEY and !KEY"))
        #expect(error("cpus < 4")! == (6, "'<' is not supported: only =, ==, !=, in, notin, KEY and !KEY"))
    }

    @Test("an error shows the selector with a caret under the column")
    func pointer() {
        do {
            _ = try LabelSelector(parsing: "zone notin (a")
            Issue.record("it parsed")
        } catch {
            #expect(error.description == "column 14: expected ',' or ')' after 'a', found the end")
            #expect(error.pointer() == "  zone notin (a\n               ^")
            #expect(error.text == "zone notin (a")
        }
    }

    @Test("what each requirement matches: a missing label is not in any set")
    func matching() throws {
        let web = ["role": "web", "zone": "a"]
        let db = ["role": "db", "zone": "b", "gpu": "true"]
        let bare: [String: String] = [:]
        func matches(_ selector: String) throws -> [Bool] {
            let parsed = try LabelSelector(parsing: selector)
            return [web, db, bare].map(parsed.matches)
        }
        #expect(try matches("role=web") == [true, false, false])
        #expect(try matches("role==db") == [false, true, false])
        #expect(try matches("role!=web") == [false, true, true])
        #expect(try matches("zone in (a,c)") == [true, false, false])
        #expect(try matches("zone notin (a,c)") == [false, true, true])
        #expect(try matches("gpu") == [false, true, false])
        #expect(try matches("!gpu") == [true, false, true])
        #expect(try matches("role in (web,db),zone!=b") == [true, false, false])
        #expect(try matches("role=") == [false, false, false])
        #expect(try LabelSelector(parsing: "example.com/tier=1").matches(["example.com/tier": "1"]))
        #expect(try !LabelSelector(parsing: "example.com/tier=1").matches(["tier": "1"]))
    }

    @Test("written back in the usual spelling")
    func description() throws {
        #expect(try LabelSelector(parsing: " role == web , zone notin ( a,b ), gpu, !canary, x!=y ").description
            == "role=web,zone notin (a,b),gpu,!canary,x!=y")
    }
}
