import NIOCore

/// A message on its way to the server. A request carries the promise its
/// reply completes; once the router has taken it (the write succeeded) the
/// router owns the promise and completes it exactly once. A message without
/// a reply is a JSON-RPC notification, never answered.
struct OutgoingCall: Sendable {
    var id: Int64
    /// The method called (what `WireLog` records its answer as).
    var method: String
    var frame: ByteBuffer
    var reply: EventLoopPromise<CallReply>?
    /// Runs on the event loop with the raw result, before the caller hears
    /// of it and before the next line is read: a subscription registers its
    /// id here, so that no notification can arrive ahead of it. It runs even
    /// when the caller has stopped waiting, so that such a subscription can
    /// still be cancelled.
    var onResult: (@Sendable (ByteBuffer) -> Void)?

    init(id: Int64, method: String, frame: ByteBuffer, reply: EventLoopPromise<CallReply>, onResult: (@Sendable (ByteBuffer) -> Void)? = nil) {
        self.id = id
        self.method = method
        self.frame = frame
        self.reply = reply
        self.onResult = onResult
    }

    /// A notification: written and forgotten.
    init(notification frame: ByteBuffer) {
        self.id = 0
        self.method = ""
        self.frame = frame
        self.reply = nil
        self.onResult = nil
    }
}

/// Sent down the pipeline when a caller stops waiting (its task was
/// cancelled, e.g. by a fan-out timeout), so the pending entry is dropped.
struct AbandonCall: Sendable {
    var id: Int64
}
