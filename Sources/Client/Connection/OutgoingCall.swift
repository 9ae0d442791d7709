import NIOCore

/// A request on its way to the server, with the promise its reply completes.
/// Once the router has taken it (the write succeeded) the router owns the
/// promise and completes it exactly once.
struct OutgoingCall: Sendable {
    var id: Int64
    var frame: ByteBuffer
    var reply: EventLoopPromise<CallReply>
}

/// Sent down the pipeline when a caller stops waiting (its task was
/// cancelled, e.g. by a fan-out timeout), so the pending entry is dropped.
struct AbandonCall: Sendable {
    var id: Int64
}
