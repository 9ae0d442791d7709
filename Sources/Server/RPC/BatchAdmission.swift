/// What a batch must fit in before any of its members runs: the member
/// limit (`--max-batch-members`) and the connection's free in-flight places
/// (`--max-in-flight`). The line itself holds one place already; each
/// further member claims one more, all together or none.
struct BatchAdmission: Sendable {
    /// The most members a batch may have.
    var maxMembers: Int
    /// The connection's in-flight limit, named in the error refusing a batch.
    var maxInFlight: Int
    /// Takes this many more in-flight places, all or none.
    var claim: @Sendable (Int) -> Bool
    /// Gives back places `claim` took.
    var release: @Sendable (Int) -> Void

    init(maxMembers: Int, maxInFlight: Int, claim: @escaping @Sendable (Int) -> Bool,
         release: @escaping @Sendable (Int) -> Void) {
        self.maxMembers = maxMembers
        self.maxInFlight = maxInFlight
        self.claim = claim
        self.release = release
    }

    /// No in-flight accounting (unit use): batches are bound by members only.
    static func unaccounted(maxMembers: Int) -> BatchAdmission {
        BatchAdmission(maxMembers: maxMembers, maxInFlight: .max, claim: { _ in true }, release: { _ in })
    }
}
