import NIOCore

/// A message the server sent without being asked (a JSON-RPC notification:
/// `method` and no `id`), e.g. `subscription.map`. The params are the raw
/// bytes as they arrived, so a large notification is never parsed twice.
public struct ServerNotification: Sendable {
    public var method: String
    /// The `params` value's JSON text; nil when the notification had none.
    public var params: ByteBuffer?

    public init(method: String, params: ByteBuffer?) {
        self.method = method
        self.params = params
    }
}
