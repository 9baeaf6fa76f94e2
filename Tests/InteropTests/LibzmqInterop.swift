import Foundation
import Testing
import ZMTP
import ZMTPSodium

/// The core against the REAL libzmq (Debian's libzmq 4.3.4 through pyzmq 24, run by
/// `/usr/bin/python3`), over TCP on 127.0.0.1, before any socket layer exists.
///
/// Every test starts its own libzmq peer process (`Peers/peer.py`) and drives one Swift
/// ``Connection`` with a ``BlockingDriver``. The tests run one at a time: each starts a python
/// process and some idle for a second with heartbeats, and a 2-core machine stays calm that way.
/// No test asserts on timing; every wait has a deadline that only turns a hang into a failure.
@Suite(.serialized) enum LibzmqInterop {}

/// Who opens the TCP connection.
enum Direction: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// The Swift core connects to libzmq's `bind`.
    case swiftConnects
    /// libzmq connects to the Swift core's listening socket.
    case libzmqConnects

    var testDescription: String {
        switch self {
        case .swiftConnects: return "Swift connects to libzmq"
        case .libzmqConnects: return "libzmq connects to Swift"
        }
    }
}

/// Starts a libzmq peer with `arguments` (plus `--bind` or `--connect`), opens the TCP
/// connection in `direction`, and wraps it in a driver for a core configured with
/// `configuration` (its `peerAddress` set to "127.0.0.1").
func startSession(
    _ direction: Direction, peer arguments: [String], configuration: Connection.Configuration,
    crypto: (any CurveCrypto)? = nil, random: RandomSource = SodiumRandom(),
    authenticate: @escaping (AuthenticationRequest) -> AuthenticationReply = { _ in .deny }
) throws -> (LibzmqPeer, BlockingDriver) {
    var configuration = configuration
    configuration.peerAddress = "127.0.0.1"
    let peer: LibzmqPeer
    let fd: Int32
    switch direction {
    case .swiftConnects:
        peer = try LibzmqPeer(arguments + ["--bind"])
        let line = try peer.waitForLine("PORT")
        guard let port = UInt16(line.dropFirst(5)) else { throw InteropFailure("bad line from the peer: \(line)") }
        fd = try Loopback.connect(port: port)
    case .libzmqConnects:
        let listener = try LoopbackListener()
        peer = try LibzmqPeer(arguments + ["--connect", "tcp://127.0.0.1:\(listener.port)"])
        fd = try listener.accept(timeoutMs: 10_000) {
            peer.drain()
            try peer.checkAlive()
        }
    }
    let driver = BlockingDriver(
        fd: fd, configuration: configuration, crypto: crypto, random: random, peer: peer, authenticate: authenticate)
    return (peer, driver)
}

/// libzmq's `ZMQ_PROTOCOL_ERROR_*` values as its monitor reports them.
enum LibzmqProtocolError {
    static let unexpectedCommand: UInt32 = 0x1000_0001
    static let cryptographic: UInt32 = 0x1100_0001
}

/// The CURVE keys of zmq_curve(7)'s example (also the keys of `Vectors/curve-interop-hello.json`).
enum ExampleKeys {
    static let serverPublic = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
    static let serverSecret = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
    static let clientPublic = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
    static let clientSecret = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs"

    static func pair(public publicText: String, secret secretText: String) throws -> CurveKeyPair {
        try CurveKeyPair(publicKey: CurveKeys.key(z85: publicText), secretKey: CurveKeys.key(z85: secretText))
    }

    static func server() throws -> CurveKeyPair { try pair(public: serverPublic, secret: serverSecret) }
    static func client() throws -> CurveKeyPair { try pair(public: clientPublic, secret: clientSecret) }
}

extension LibzmqInterop {
    /// The environment the whole suite needs. Fails (never skips) with the fix when missing.
    @Suite("Environment") struct Environment {
        @Test("Debian's /usr/bin/python3 imports pyzmq on libzmq 4.3 with CURVE")
        func pythonZMQIsAvailable() throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: LibzmqPeer.python)
            process.arguments = ["-c", "import zmq; print(zmq.zmq_version(), zmq.has('curve'))"]
            process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PYTHON") }
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            do {
                try process.run()
            } catch {
                Issue.record("cannot run \(LibzmqPeer.python): \(error). Install Debian's python3-zmq (scripts/install-deps.sh)")
                return
            }
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(
                process.terminationStatus == 0,
                "\(LibzmqPeer.python) cannot import zmq: install Debian's python3-zmq (scripts/install-deps.sh)\n\(text)")
            #expect(text.hasPrefix("4.3."), "expected libzmq 4.3.x, got \(text)")
            #expect(text.contains("True"), "libzmq without CURVE: \(text)")
        }
    }
}
