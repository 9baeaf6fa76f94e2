import Synchronization
import ZeroMQ

/// Hands a socket made on one thread to the thread that will use it (once).
final class SocketBox: Sendable {
    private let socket: Mutex<Socket?>

    init(_ socket: sending Socket) { self.socket = Mutex(socket) }

    func take() -> Socket? { socket.withLock { $0.take() } }
}
