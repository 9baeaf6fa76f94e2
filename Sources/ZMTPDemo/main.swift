// The README's demo: two ZMTP cores handshake CURVE over a real Unix socket pair, exchange a
// multipart message and a heartbeat, and print every event. One thread drives both ends; the
// cores never see the sockets, only bytes, which is the point of a sans-IO core.
#if canImport(Glibc)
import Glibc
#endif
import ZMTP
import ZMTPSodium

func monotonicNow() -> ZMTPInstant {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ZMTPInstant(nanoseconds: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec))
}

func z85(_ key: [UInt8]) -> String { (try? Z85.encode(key)) ?? "?" }

/// One end: a core plus the file descriptor it talks through.
struct End {
    let name: String
    let fd: Int32
    var connection: Connection

    /// Writes what the core wants to send; returns the byte count.
    mutating func flush() -> Int {
        var out: [UInt8] = []
        let n = connection.pollTransmit(into: &out)
        var offset = 0
        while offset < out.count {
            let w = out[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if w <= 0 { break }
            offset += w
        }
        if n > 0 { print("  \(name) → \(n) bytes") }
        return n
    }

    /// Reads what arrived and prints every event.
    mutating func pump() -> [ConnectionEvent] {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let r = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if r > 0 { connection.receive(Array(buffer[0..<r]), now: monotonicNow()) }
        var events: [ConnectionEvent] = []
        while let event = connection.nextEvent() {
            events.append(event)
            switch event {
            case .handshakeCompleted(let peer):
                print("  \(name): handshake completed with a \(peer.socketType?.name ?? "?") peer over ZMTP \(peer.version.major).\(peer.version.minor), \(peer.mechanism.rawValue), properties \(peer.metadata)")
            case .message(let m):
                print("  \(name): message part \"\(m.string)\"\(m.more ? " (more)" : "")")
            case .failed(let e):
                print("  \(name): failed: \(e)")
            case .authenticationRequest(let request):
                print("  \(name): asked to authenticate a \(request.mechanism.rawValue) peer from \(request.address)")
            default:
                print("  \(name): \(event)")
            }
        }
        return events
    }
}

var fds: [Int32] = [0, 0]
guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else {
    print("socketpair failed"); exit(1)
}
for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }

let crypto = SodiumCurveCrypto()
let random = SodiumRandom()
let serverKeys = try CurveKeyPair.generate(crypto: crypto, random: random)
let clientKeys = try CurveKeyPair.generate(crypto: crypto, random: random)
print("server public key \(z85(serverKeys.publicKey))")
print("client public key \(z85(clientKeys.publicKey))")

var serverConfig = Connection.Configuration(socketType: .router,
    security: .curveServer(keyPair: serverKeys, zapDomain: "demo", authenticate: true))
serverConfig.peerAddress = "socketpair"
var clientConfig = Connection.Configuration(socketType: .dealer,
    security: .curveClient(serverPublicKey: serverKeys.publicKey, keyPair: clientKeys))
clientConfig.identity = Array("demo-client".utf8)
clientConfig.properties = ["X-Demo": "hello from Swift"]
clientConfig.heartbeatInterval = .milliseconds(50)

var server = End(name: "ROUTER", fd: fds[0], connection: Connection(configuration: serverConfig, crypto: crypto, random: random, now: monotonicNow()))
var client = End(name: "DEALER", fd: fds[1], connection: Connection(configuration: clientConfig, crypto: crypto, random: random, now: monotonicNow()))

try client.connection.send(Message(string: "Hello", more: true))
try client.connection.send(Message(string: "CURVE"))

print("— handshake and first message")
var replied = false
var pings = 0
let start = monotonicNow()
while monotonicNow().nanoseconds - start.nanoseconds < 300_000_000 {
    _ = client.flush(); _ = server.flush()
    for event in server.pump() {
        switch event {
        case .authenticationRequest(let request):
            let key = request.credentials.first ?? []
            let allowed = key == clientKeys.publicKey
            print("  ROUTER: authenticating \(z85(key)): \(allowed ? "allowed" : "denied")")
            try server.connection.completeAuthentication(allowed ? .accept(userID: "demo-user") : .deny, now: monotonicNow())
        case .message(let m) where !m.more && !replied:
            replied = true
            print("— reply")
            try server.connection.send(Message(string: "World"))
        default: break
        }
    }
    _ = client.pump()
    let now = monotonicNow()
    if let d = client.connection.nextDeadline, d <= now {
        client.connection.handleTimeout(now: now)
        pings += 1
    }
    if client.connection.error != nil || server.connection.error != nil { break }
    usleep(2_000)
}
print("— \(pings) heartbeat PINGs answered; client \(client.connection.isReady ? "ready" : "not ready"), server \(server.connection.isReady ? "ready" : "not ready")")
close(fds[0]); close(fds[1])
exit(client.connection.isReady && server.connection.isReady && replied ? 0 : 1)
