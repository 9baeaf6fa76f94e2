import ZMTP
import ZeroMQTransport

// The core's types that the socket API takes or returns, named here so that `import ZeroMQ` is
// all a socket user writes. The rest of the core (connections, codecs, greetings, mechanisms'
// machines) stays behind `import ZMTP`, for those who embed the protocol in a runtime of their own.

/// One message part: its bytes and its MORE flag (`zmq_msg_t`).
public typealias Message = ZMTP.Message
/// A socket's pattern (`ZMQ_REQ`, `ZMQ_PUB`, ...), as it travels in the ZMTP greeting.
public typealias SocketType = ZMTP.SocketType
/// A peer's properties from the handshake (`Socket-Type`, `Identity`, `User-Id`, `X-*`, ...).
public typealias Metadata = ZMTP.Metadata
/// The security mechanism a socket speaks and its role: NULL, PLAIN or CURVE, client or server
/// (ZMQ_PLAIN_SERVER, ZMQ_CURVE_SERVER, ...). Usually set through ``SocketOptions``' CURVE and
/// PLAIN options or ``CurveCertificate``.
public typealias SecurityMechanism = ZMTP.Security
/// NULL, PLAIN or CURVE: a mechanism's name as the greeting carries it.
public typealias MechanismName = ZMTP.MechanismName
/// A CURVE long-term key pair.
public typealias CurveKeyPair = ZMTP.CurveKeyPair
/// Z85, ZeroMQ's printable encoding of keys (RFC 32).
public typealias Z85 = ZMTP.Z85
/// A protocol error of a connection, as ``MonitorEvent/handshakeFailed(endpoint:error:)`` reports it.
public typealias ZMTPError = ZMTP.ZMTPError
/// The question a ZAP handler answers (RFC 27), as an ``Authenticator`` policy receives it.
public typealias AuthenticationRequest = ZMTP.AuthenticationRequest
/// A ZAP handler's answer (RFC 27).
public typealias AuthenticationReply = ZMTP.AuthenticationReply
/// A failure of a transport (tcp, ipc, ...), as monitor events report it.
public typealias TransportError = ZeroMQTransport.TransportError
