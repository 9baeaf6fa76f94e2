#if canImport(Glibc)
import Glibc
#endif
import ZMTP

/// An engine's outgoing bytes: a batch buffer the core frames into, plus large message bodies
/// held by reference at their offsets in it (``Connection/pollTransmit(into:bodies:)``). Small
/// frames go out with the batch in one `send`; a large body goes out by `sendmsg` with an iovec
/// pointing at the message's own storage, so it is never copied.
struct OutputBuffer {
    private var bytes: [UInt8] = []
    private var bodies: [TransmitBody] = []
    /// Stream bytes written so far.
    private var written = 0
    /// The total of `bytes` and `bodies`.
    private var total = 0
    /// The first body not completely written, and the size of the bodies before it.
    private var nextBody = 0
    private var bodiesBefore = 0

    enum Outcome: Equatable {
        /// Everything was written.
        case done
        /// The descriptor is full; wait until it is writable.
        case wouldBlock
        /// The descriptor failed with this `errno`.
        case failed(Int32)
    }

    /// Stream bytes waiting to be written.
    var pending: Int { total - written }

    var isEmpty: Bool { written == total }

    /// Takes what the core has to send.
    mutating func take(from connection: inout Connection) {
        if isEmpty {
            bytes.removeAll(keepingCapacity: true)
            bodies.removeAll(keepingCapacity: true)
            written = 0
            total = 0
            nextBody = 0
            bodiesBefore = 0
        }
        total += connection.pollTransmit(into: &bytes, bodies: &bodies)
    }

    /// Writes as much as the descriptor takes.
    mutating func write(to fd: Int32) -> Outcome {
        while written < total {
            let n = writeSome(fd)
            if n > 0 {
                advance(by: n)
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                return .wouldBlock
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return .failed(n == 0 ? EPIPE : errno)
            }
        }
        return .done
    }

    /// Writes as much as `stream` takes, a contiguous piece at a time (the batch up to the next
    /// large body, then the body itself: still no copy here; the stream copies or sends).
    mutating func write(to stream: any ByteStream) -> Outcome {
        while written < total {
            let n = withNextPiece { stream.write($0) }
            guard n > 0 else { return .wouldBlock }
            advance(by: n)
        }
        return .done
    }

    /// The bytes from the current position up to the next large body, or the rest of that body.
    private func withNextPiece<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        let position = written - bodiesBefore
        guard nextBody < bodies.count else { return bytes[position...].withUnsafeBytes(body) }
        let large = bodies[nextBody]
        if position < large.offset {
            return bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[position..<large.offset])) }
        }
        let inside = position - large.offset
        return large.body.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[inside...])) }
    }

    private mutating func advance(by n: Int) {
        written += n
        while nextBody < bodies.count {
            let body = bodies[nextBody]
            guard written >= body.offset + bodiesBefore + body.body.count else { break }
            bodiesBefore += body.body.count
            nextBody += 1
        }
    }

    /// One system call from the current position: up to the next large body, the body itself
    /// and the bytes after it.
    private func writeSome(_ fd: Int32) -> Int {
        let position = written - bodiesBefore  // in `bytes`, or in the next body when past its offset
        guard nextBody < bodies.count else {
            return bytes[position...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        let body = bodies[nextBody]
        let after = nextBody + 1 < bodies.count ? bodies[nextBody + 1].offset : bytes.count
        return bytes.withUnsafeBytes { all in
            body.body.withUnsafeBytes { large in
                if position < body.offset {
                    // Bytes before the body, then the body.
                    let head = UnsafeRawBufferPointer(rebasing: all[position..<body.offset])
                    return Self.sendVector(fd, [head, large])
                }
                // Inside the body: its rest, then the bytes up to the next body.
                let inside = position - body.offset
                let rest = UnsafeRawBufferPointer(rebasing: large[inside...])
                let tail = UnsafeRawBufferPointer(rebasing: all[body.offset..<after])
                return Self.sendVector(fd, [rest, tail])
            }
        }
    }

    private static func sendVector(_ fd: Int32, _ parts: [UnsafeRawBufferPointer]) -> Int {
        var vectors = parts.filter { $0.count > 0 }.map {
            iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count)
        }
        return vectors.withUnsafeMutableBufferPointer { buffer in
            var header = msghdr()
            header.msg_iov = buffer.baseAddress
            header.msg_iovlen = buffer.count
            return sendmsg(fd, &header, Int32(MSG_NOSIGNAL))
        }
    }
}
