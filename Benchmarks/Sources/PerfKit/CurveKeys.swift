import Foundation
import ZeroMQ
import ZMTP

/// `BENCH_CURVE=1` secures the stream tools with CURVE: the binding side is the server. The keys
/// are fixed (the test keys of libzmq's own CURVE tests), the same as Benchmarks/C/ uses.
enum CurveKeys {
    static let serverPublic = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
    static let serverSecret = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
    static let clientPublic = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
    static let clientSecret = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs"

    static var requested: Bool { ProcessInfo.processInfo.environment["BENCH_CURVE"] == "1" }

    static func server() throws -> SecurityMechanism {
        let pair = try CurveKeyPair(publicKey: Z85.decode(serverPublic), secretKey: Z85.decode(serverSecret))
        return .curveServer(keyPair: pair, zapDomain: "", authenticate: false)
    }

    static func client() throws -> SecurityMechanism {
        let pair = try CurveKeyPair(publicKey: Z85.decode(clientPublic), secretKey: Z85.decode(clientSecret))
        return .curveClient(serverPublicKey: try Z85.decode(serverPublic), keyPair: pair)
    }

    /// Applies CURVE to a stream tool's socket when `BENCH_CURVE=1`.
    static func applyIfRequested(_ socket: Socket, server: Bool) throws {
        guard requested else { return }
        socket.options.security = server ? try CurveKeys.server() : try CurveKeys.client()
    }
}
