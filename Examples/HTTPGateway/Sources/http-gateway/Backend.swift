import ZeroMQ

/// The gateway's side of the worker pool: one DEALER socket, owned by this actor. Requests go
/// out round robin to the connected workers, each tagged with a number; replies come back in
/// any order and are matched to their requests by that number.
///
/// The envelope is the one a ROUTER worker sees as `[worker's routing id][request number][]
/// [body]` and sends back unchanged but for the body: the empty frame is REQ/REP's delimiter, so
/// REP workers serve too.
actor Backend {
    /// How long a request waits for its reply before the HTTP client is told 504.
    static let replyTimeout: Duration = .seconds(10)

    enum Failure: Error {
        /// No worker is connected, or all of them are at their high-water mark.
        case noWorker
        /// No reply within ``Backend/replyTimeout``.
        case timedOut
    }

    private let socket: Socket
    private var waiting: [UInt64: CheckedContinuation<[UInt8], any Error>] = [:]
    private var lastNumber: UInt64 = 0

    /// A DEALER bound at `endpoint` for workers to connect to.
    init(context: Context, endpoint: String) throws {
        socket = try context.socket(.dealer)
        // A send never waits: with no worker to take it, the request fails at once.
        socket.options.sendTimeout = .zero
        socket.options.linger = .zero
        try socket.bind(endpoint)
    }

    /// The endpoint workers connect to (wildcards resolved).
    var endpoint: String { socket.lastEndpoint }

    /// Sends `body` to a worker and returns its reply.
    func request(_ body: [UInt8]) async throws -> [UInt8] {
        lastNumber += 1
        let number = lastNumber
        let tag = withUnsafeBytes(of: number.bigEndian) { Array($0) }
        return try await withCheckedThrowingContinuation { continuation in
            do {
                try socket.send(Multipart(parts: [Message(tag), Message([UInt8]()), Message(body)]))
            } catch {
                continuation.resume(throwing: Failure.noWorker)
                return
            }
            waiting[number] = continuation
            Task { [weak self] in
                try? await Task.sleep(for: Self.replyTimeout)
                await self?.expire(number)
            }
        }
    }

    /// Receives replies until the socket is closed, and hands each to its request.
    func run() async throws {
        for try await reply in socket.messages {
            guard reply.count == 3, reply[0].count == 8 else { continue }  // not ours: drop
            let number = reply[0].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).bigEndian }
            waiting.removeValue(forKey: number)?.resume(returning: reply[2].bytes)
        }
    }

    private func expire(_ number: UInt64) {
        waiting.removeValue(forKey: number)?.resume(throwing: Failure.timedOut)
    }
}
