import Foundation

/// A value shared between an event loop and the tasks that wait on it.
final class LockedValue<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) {
        self.stored = value
    }

    var value: Value {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }

    func set(_ value: Value) {
        lock.lock()
        stored = value
        lock.unlock()
    }

    /// Sets the value only if none was set yet (for "the first reason wins").
    func setIfNil<Wrapped>(_ value: Wrapped) where Value == Wrapped? {
        lock.lock()
        if stored == nil { stored = value }
        lock.unlock()
    }
}
