import BpfleetShared

/// A server error together with the method that got it: a command may call
/// more than one (`probe load FILE` uploads first), and the operator needs
/// to know which step failed.
public struct MethodFailure: Error, Sendable, CustomStringConvertible {
    public var method: String
    public var error: ResponseError

    public init(method: String, error: ResponseError) {
        self.method = method
        self.error = error
    }

    public var description: String { FailureText.line(self) }
}

extension MethodFailure {
    /// Runs one step of a command, naming its method on a server error.
    static func naming<Value>(_ method: String, isolation: isolated (any Actor)? = #isolation,
                              _ step: () async throws -> Value) async throws -> Value {
        do {
            return try await step()
        } catch let error as ResponseError {
            throw MethodFailure(method: method, error: error)
        }
    }
}
