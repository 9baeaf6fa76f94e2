import ZMTP
import ZeroMQTransport

extension PGMError.Code {
    /// libpgm refused the network: no such interface, no multicast route, an address no
    /// interface has, a unicast group (libzmq: EINVAL, or an abort in its I/O thread).
    public static let networkUnusable = PGMError.Code(rawValue: 0x5A00_0130)
    /// libpgm could not make the socket (raw `pgm://` without CAP_NET_RAW; libzmq aborts).
    public static let socketFailed = PGMError.Code(rawValue: 0x5A00_0131)
}

/// `pgm://` and `epgm://` for the sockets (libzmq's PGM transport, wire-compatible with it):
/// reliable multicast through OpenPGM, with libzmq's endpoint syntax, options and payload format.
///
/// ```swift
/// let context = try Context()
/// context.register(PGMTransport.epgm)
/// let publisher = try context.socket(.pub)
/// publisher.options.rate = 100_000                      // kbit/s; libzmq's default is 100
/// try publisher.connect("epgm://192.168.1.10;239.192.1.1:5555")
/// ```
///
/// PUB and XPUB send, SUB and XSUB receive; any other socket type gets
/// ``/ZeroMQTransport/MessageTransportError/Code/socketTypeNotServed`` (the sockets' `incompatibleProtocol`). Bind and connect mean the same thing. A
/// malformed endpoint, an interface that does not exist or a network without a multicast route
/// is a typed error from `bind`/`connect`, never an abort (libzmq 4.3.4 aborts on some).
public struct PGMTransport: MessageTransport {
    /// UDP-encapsulated PGM (`epgm://`): any user.
    public static let epgm = PGMTransport(scheme: .epgm)
    /// PGM as IP protocol 113 (`pgm://`): needs CAP_NET_RAW.
    public static let pgm = PGMTransport(scheme: .pgm)

    public let scheme: String
    private let kind: PGMEndpoint.Scheme

    init(scheme: PGMEndpoint.Scheme) {
        self.kind = scheme
        self.scheme = scheme.rawValue
    }

    public func open(_ address: String, socketType: SocketType,
                     options: MessageTransportOptions) throws(MessageTransportError) -> any MessageTransportLink {
        let role: PGMSocket.Role
        switch socketType {
        case .pub, .xpub: role = .sender
        case .sub, .xsub: role = .receiver
        default:
            throw MessageTransportError(.socketTypeNotServed, "\(kind.rawValue):// carries PUB/XPUB to SUB/XSUB only, not \(socketType.name)")
        }
        do throws(PGMError) {
            let endpoint = try PGMEndpoint(parsing: "\(kind.rawValue)://\(address)")
            let settings = PGMOptions(rate: options.rate, recoveryInterval: Self.milliseconds(options.recoveryInterval),
                                      maxTPDU: options.multicastMaxTPDU, hops: options.multicastHops)
            let socket = try PGMSocket(endpoint: endpoint, role: role, options: settings,
                                       sendBuffer: options.sendBufferSize, receiveBuffer: options.receiveBufferSize)
            switch role {
            case .sender: return try PGMSenderLink(socket: socket)
            case .receiver:
                // Any host on the group can send: a frame over the limit is refused from its
                // header, as over tcp.
                return PGMReceiverLink(socket: socket, limits: PGMDecoder.Limits(maxMessageSize: options.maxFrameSize))
            }
        } catch {
            throw MessageTransportError(error.code == .socketFailed ? .system : .invalidAddress, "\(kind.rawValue)://\(address): \(error)")
        }
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(clamping: seconds &* 1000 &+ attoseconds / 1_000_000_000_000_000)
    }
}
