import Synchronization
import ZeroMQTransport

/// The live sessions of one socket, shared between the socket (which terminates them) and the
/// I/O threads (where they start and end).
final class SessionRegistry: Sendable {
    private struct Entry: @unchecked Sendable {
        let session: Session
        let reactor: any IODriver
        /// Asked to end: counted among the context's lingering sessions until it does.
        var lingering = false
    }

    private let sessions = Mutex<[SessionID: Entry]>([:])

    func add(_ session: Session) {
        sessions.withLock { $0[session.id] = Entry(session: session, reactor: session.reactorForRegistry) }
    }

    /// Forgets an ended session; whether it was counted as lingering.
    func remove(_ id: SessionID) -> Bool {
        sessions.withLock { $0.removeValue(forKey: id)?.lingering ?? false }
    }

    /// Asks the sessions of `endpoint` (every session when nil) to end within `linger`. They
    /// count as lingering from now, not from when their I/O thread gets the request, so that
    /// the exit flush, which closes sockets and then waits, cannot miss one.
    func terminate(endpoint: String?, linger: Duration?) {
        let deadline = linger.map { IOClock.now().adding($0) }
        let entries = sessions.withLock { all -> [Entry] in
            var chosen: [Entry] = []
            for (id, entry) in all where endpoint == nil || entry.session.endpoint == endpoint {
                if !entry.lingering {
                    all[id]?.lingering = true
                    entry.session.context.sessionLingering(until: deadline)
                }
                chosen.append(entry)
            }
            return chosen
        }
        for entry in entries {
            let session = entry.session
            entry.reactor.post { session.terminate(linger: linger) }
        }
    }
}

/// A session's transport engine: ZMTP (``StreamEngine``) or raw bytes (``RawEngine``, STREAM).
protocol SessionEngine: AnyObject {
    func start()
    func stop()
    func attach(_ pipe: PipeEnd)
}

extension StreamEngine: SessionEngine {}
