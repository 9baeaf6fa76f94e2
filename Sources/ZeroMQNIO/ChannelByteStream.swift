#if NIO
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import ZeroMQTransport

/// A NIO channel as the engine's ``/ZeroMQTransport/ByteStream``: the last handler of the
/// channel's pipeline, it hands every buffer the channel reads to the engine (no copy: the engine
/// decodes in place from the buffer, and keeps only a frame the read cut), and writes the
/// engine's output as buffers.
///
/// The channel runs with `autoRead` off and asks for each read itself, while the engine wants
/// input: that is how back-pressure from a full socket reaches the peer's TCP window.
final class ChannelByteStream: ChannelInboundHandler, ByteStream, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Lifecycle {
        /// In the pipeline, not yet active: nobody to tell anything to.
        case connecting
        /// Active, and told (or about to be told) to its transport; not yet driven by an engine.
        case waitingForEngine
        /// Driven by an engine: `reading` whether it wants input now.
        case running(any ByteStreamReceiver, reading: Bool)
        /// Closed by the engine, or ended by the peer or a failure.
        case closed
    }

    /// The loop's thread only (hence `@unchecked Sendable`: NIO hands the handler to that
    /// thread once, and the engine calls it there).
    private var lifecycle = Lifecycle.connecting
    private var context: ChannelHandlerContext?
    /// Called once the channel is active, with the peer's address as ZeroMQ names it.
    private var onActive: ((ChannelByteStream, String) -> Void)?
    private let isLocal: Bool

    /// - Parameters:
    ///   - isLocal: a Unix domain socket (the peer is named by its credentials, as libzmq does).
    ///   - onActive: told once the channel is connected, on its loop.
    init(isLocal: Bool, onActive: @escaping (ChannelByteStream, String) -> Void) {
        self.isLocal = isLocal
        self.onActive = onActive
    }

    // MARK: ChannelInboundHandler

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { becameActive(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        becameActive(context)
        context.fireChannelActive()
    }

    private func becameActive(_ context: ChannelHandlerContext) {
        guard case .connecting = lifecycle, let onActive else { return }
        lifecycle = .waitingForEngine
        self.onActive = nil
        guard isLocal, let provider = context.channel as? SocketOptionProvider else {
            onActive(self, Self.hostPart(context.channel.remoteAddress))
            return
        }
        // libzmq names an ipc peer `localhost:uid:gid:pid`, from SO_PEERCRED (struct ucred).
        let credentials: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(PeerCredentials.option))
        credentials.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let peer): onActive(self, "localhost:\(peer.uid):\(peer.gid):\(peer.pid)")
            case .failure: onActive(self, "localhost")
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .running(let receiver, _) = lifecycle else { return }
        let buffer = unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { receiver.stream(received: $0) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .running(_, reading: true) = lifecycle { context.read() }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, case .running(let receiver, _) = lifecycle {
            receiver.streamBecameWritable()
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        end(nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        end(Self.transportError(error))
        context.close(promise: nil)
    }

    private func end(_ failure: TransportError?) {
        let previous = lifecycle
        lifecycle = .closed
        if case .running(let receiver, _) = previous { receiver.streamEnded(failure) }
    }

    // MARK: ByteStream

    func start(_ receiver: any ByteStreamReceiver) {
        guard case .waitingForEngine = lifecycle else {
            // Ended before its engine started: the engine hears it at once.
            receiver.streamEnded(nil)
            return
        }
        lifecycle = .running(receiver, reading: true)
        context?.read()
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard case .running = lifecycle, let context, context.channel.isWritable else { return 0 }
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        context.write(wrapOutboundOut(buffer), promise: nil)
        return bytes.count
    }

    func flush() {
        context?.flush()
    }

    func setReading(_ reading: Bool) {
        guard case .running(let receiver, let was) = lifecycle, was != reading else { return }
        lifecycle = .running(receiver, reading: reading)
        if reading { context?.read() }
    }

    func close() {
        lifecycle = .closed
        context?.close(promise: nil)
    }

    // MARK: Naming

    /// libzmq's Peer-Address is the numeric host without the port.
    private static func hostPart(_ address: NIOCore.SocketAddress?) -> String {
        address?.ipAddress ?? ""
    }

    static func transportError(_ error: any Error) -> TransportError {
        if let error = error as? IOError { return .system("\(error)", error.errnoCode) }
        return .system("\(error)", EIO)
    }
}

/// Linux's `struct ucred`, which Swift's Glibc module leaves out.
private struct PeerCredentials: Sendable {
    static let option: Int32 = 17  // SO_PEERCRED
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}
#endif
