#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import Testing
import ZeroMQ

/// A ZAP handler written the way a libzmq user writes one: a ROUTER (or REP) bound at
/// `inproc://zeromq.zap.01`, on a thread, answering each request with whatever `answer`
/// builds from its frames, so tests can misbehave on purpose. Records every request.
final class ZAPHandlerStub: @unchecked Sendable {
    /// The frames after the routing id and the delimiter (ROUTER) or as received (REP).
    typealias Answer = @Sendable (_ request: [[UInt8]]) -> [Message]?

    private let running = Atomic<Bool>(true)
    private let done = DispatchSemaphore(value: 0)
    private let recorded = Mutex<[[[UInt8]]]>([])

    /// Binds a handler of `type` (.router or .rep) and starts its thread.
    init(context: Context, type: SocketType = .router, answer: @escaping Answer) throws {
        let handler = try context.socket(type)
        handler.options.linger = .zero
        handler.options.receiveTimeout = .milliseconds(20)
        try handler.bind("inproc://zeromq.zap.01")
        let box = Handoff(handler)
        Thread.detachNewThread { [self] in
            let handler = box.value
            defer {
                handler.close()
                done.signal()
            }
            while running.load(ordering: .acquiring) {
                guard let parts = try? handler.receiveMultipart().parts else { continue }
                let isRouter = type == .router
                let routing = isRouter ? Array(parts.prefix(1)) : []
                // A ROUTER sees [id][""]…; a REP sees the fields only.
                let fields = parts.dropFirst(isRouter ? 2 : 0).map(\.bytes)
                recorded.withLock { $0.append(fields) }
                guard let reply = answer(fields) else { continue }
                if isRouter {
                    var out = routing.map { Message($0.bytes, more: true) } + [Message([UInt8](), more: true)]
                    out += reply
                    for part in out { _ = try? handler.send(part) }
                } else {
                    for part in reply { _ = try? handler.send(part) }
                }
            }
        }
    }

    /// The requests so far (fields without the delimiter).
    var requests: [[[UInt8]]] { recorded.withLock { $0 } }

    /// Stops the thread and unbinds.
    func stop() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        done.wait()
    }

    deinit { stop() }

    /// A well-formed 6-frame reply body (after the delimiter), every part but the last with MORE.
    static func reply(version: String = "1.0", id: [UInt8] = Array("1".utf8), status: String, text: String = "",
                      user: String = "", metadata: [UInt8] = [], extra: [[UInt8]] = []) -> [Message] {
        let frames: [[UInt8]] = [Array(version.utf8), id, Array(status.utf8), Array(text.utf8), Array(user.utf8), metadata] + extra
        return frames.enumerated().map { Message($0.element, more: $0.offset < frames.count - 1) }
    }
}

/// The three mechanisms with a ZAP request, set on a server and a client.
enum SecuredPair: String, CaseIterable, CustomTestStringConvertible {
    case null, plain, curve

    var testDescription: String { rawValue.uppercased() }

    /// libzmq's test keys (`testutil_security.cpp`), Z85.
    static let serverPublic = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
    static let serverSecret = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
    static let clientPublic = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
    static let clientSecret = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs"

    func configure(server: Socket, client: Socket, domain: String = "test", password: String = "password") throws {
        server.options.zapDomain = domain
        switch self {
        case .null:
            break
        case .plain:
            server.options.plainServer = true
            client.options.plainUsername = "admin"
            client.options.plainPassword = password
        case .curve:
            server.options.curveServer = true
            server.options.curveSecretKey = try CurveKey(z85: Self.serverSecret)
            client.options.curveServerKey = try CurveKey(z85: Self.serverPublic)
            client.options.curveSecretKey = try CurveKey(z85: Self.clientSecret)
        }
    }

    /// The credentials frames a ZAP request carries.
    func credentials() throws -> [[UInt8]] {
        switch self {
        case .null: return []
        case .plain: return [Array("admin".utf8), Array("password".utf8)]
        case .curve: return [try CurveKey(z85: Self.clientPublic).bytes]
        }
    }
}
