import Synchronization
import ZeroMQTransport

/// The live sessions of one socket, shared between the socket (which terminates them) and the
/// I/O threads (where they start and end).
final class SessionRegistry: Sendable {
    private struct Entry: @unchecked Sendable {
        let session: Session
        let reactor: Reactor
    }

    private let sessions = Mutex<[SessionID: Entry]>([:])

    func add(_ session: Session) {
        sessions.withLock { $0[session.id] = Entry(session: session, reactor: session.reactorForRegistry) }
    }

    func remove(_ id: SessionID) {
        sessions.withLock { _ = $0.removeValue(forKey: id) }
    }

    /// Asks the sessions of `endpoint` (every session when nil) to end within `linger`.
    func terminate(endpoint: String?, linger: Duration?) {
        let entries = sessions.withLock { all in all.values.filter { endpoint == nil || $0.session.endpoint == endpoint } }
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
