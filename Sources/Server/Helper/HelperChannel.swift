import Glibc

/// One end of the Unix socket between bpfleetd and its object helper.
/// A message is two little-endian u32 lengths, a JSON header of the first
/// length and a payload (an object's bytes) of the second, both bounded.
/// Every read and write waits at most until the deadline it is given.
struct HelperChannel {
    let fd: Int32

    static let maxHeader = 64 << 20
    static let maxPayload = 256 << 20

    enum Failure: Error {
        /// The other end is gone (end of file, reset, broken pipe).
        case closed
        case timedOut
        case tooLarge(Int)
        case system(Int32)
    }

    /// A point in time on the monotonic clock; `nil` waits for ever.
    typealias Deadline = timespec?

    static func deadline(after seconds: Double) -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let total = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 + seconds
        return timespec(tv_sec: Int(total), tv_nsec: Int((total - Double(Int(total))) * 1e9))
    }

    private func wait(for events: Int16, until deadline: Deadline) throws(Failure) {
        while true {
            var timeout: Int32 = -1
            if let deadline {
                var now = timespec()
                clock_gettime(CLOCK_MONOTONIC, &now)
                let left = (deadline.tv_sec - now.tv_sec) * 1000 + (deadline.tv_nsec - now.tv_nsec) / 1_000_000
                guard left > 0 else { throw .timedOut }
                timeout = Int32(min(left, Int(Int32.max)))
            }
            var poller = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&poller, 1, timeout)
            if ready > 0 { return }
            if ready == 0 { throw .timedOut }
            if errno != EINTR { throw .system(errno) }
        }
    }

    func send(header: [UInt8], payload: [UInt8], until deadline: Deadline) throws(Failure) {
        guard header.count <= Self.maxHeader else { throw .tooLarge(header.count) }
        guard payload.count <= Self.maxPayload else { throw .tooLarge(payload.count) }
        var prefix: [UInt8] = []
        for value in [UInt32(header.count), UInt32(payload.count)] {
            for shift in stride(from: 0, to: 32, by: 8) { prefix.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
        }
        try write(prefix + header, until: deadline)
        try write(payload, until: deadline)
    }

    private func write(_ bytes: [UInt8], until deadline: Deadline) throws(Failure) {
        var done = 0
        while done < bytes.count {
            try wait(for: Int16(POLLOUT), until: deadline)
            let n = bytes.withUnsafeBytes { buffer in
                Glibc.send(fd, buffer.baseAddress.map { $0 + done }, bytes.count - done, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if n > 0 {
                done += n
            } else if n < 0, errno == EAGAIN || errno == EINTR {
                continue
            } else if n < 0, errno == EPIPE || errno == ECONNRESET {
                throw .closed
            } else {
                throw .system(errno)
            }
        }
    }

    /// The next message; `.closed` at end of file before a whole message.
    func receive(until deadline: Deadline) throws(Failure) -> (header: [UInt8], payload: [UInt8]) {
        let prefix = try read(8, until: deadline)
        func word(_ at: Int) -> Int { (0..<4).reduce(0) { $0 | Int(prefix[at + $1]) << (8 * $1) } }
        let headerLength = word(0)
        let payloadLength = word(4)
        guard headerLength <= Self.maxHeader else { throw .tooLarge(headerLength) }
        guard payloadLength <= Self.maxPayload else { throw .tooLarge(payloadLength) }
        return (try read(headerLength, until: deadline), try read(payloadLength, until: deadline))
    }

    private func read(_ count: Int, until deadline: Deadline) throws(Failure) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            try wait(for: Int16(POLLIN), until: deadline)
            let n = bytes.withUnsafeMutableBytes { buffer in
                recv(fd, buffer.baseAddress.map { $0 + done }, count - done, Int32(MSG_DONTWAIT))
            }
            if n > 0 {
                done += n
            } else if n == 0 {
                throw .closed
            } else if errno == EAGAIN || errno == EINTR {
                continue
            } else if errno == ECONNRESET {
                throw .closed
            } else {
                throw .system(errno)
            }
        }
        return bytes
    }
}
