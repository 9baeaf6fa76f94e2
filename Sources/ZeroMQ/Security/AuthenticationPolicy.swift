import ZMTP

/// The decisions of an ``Authenticator``, as pyzmq's `zmq.auth` makes them: first the peer's
/// address (an allow list, if any, admits only its addresses; otherwise a deny list refuses
/// its own), then the mechanism: NULL passes, PLAIN needs a user and password from the
/// domain's table, CURVE a client key from the domain's list (or any key, if the domain allows
/// any). Domain "*" applies to every domain without a table of its own (pyzmq applies it only
/// to requests without a domain, and refuses unknown domains).
///
/// A pure value: ``decide(_:)`` has no side effects, so the rules are testable on their own.
public struct AuthenticationPolicy: Sendable {
    /// The domain whose settings apply to requests from domains without their own.
    public static let anyDomain = "*"

    /// Which CURVE client keys a domain accepts.
    public enum CurveKeys: Sendable, Hashable {
        /// Every client that completes the handshake (pyzmq's `CURVE_ALLOW_ANY`): encryption
        /// without authentication.
        case any
        /// Only these long-term public keys.
        case only(Set<[UInt8]>)
    }

    /// Peer addresses (IP text, as `Peer-Address`) that alone are admitted, when not empty.
    public var allowedAddresses: Set<String> = []
    /// Peer addresses refused (ignored while ``allowedAddresses`` is not empty, as pyzmq).
    public var deniedAddresses: Set<String> = []
    /// PLAIN: user name → password, per ZAP domain.
    public var passwords: [String: [String: String]] = [:]
    /// CURVE: the accepted client keys, per ZAP domain.
    public var curveKeys: [String: CurveKeys] = [:]

    /// A policy that allows every address and knows no passwords or keys, so it accepts NULL
    /// peers and refuses PLAIN and CURVE ones.
    public init() {}

    /// The reply to `request`: 200 with a user id (the PLAIN user name, the Z85 of the CURVE
    /// client key, "anonymous" for NULL) or 400 with the reason.
    public func decide(_ request: AuthenticationRequest) -> AuthenticationReply {
        if !allowedAddresses.isEmpty {
            guard allowedAddresses.contains(request.address) else { return refuse("Address not in allow list") }
        } else if deniedAddresses.contains(request.address) {
            return refuse("Address is denied")
        }
        switch request.mechanism {
        case .null:
            return .accept(userID: "anonymous")
        case .plain:
            guard request.credentials.count == 2 else { return refuse("Malformed PLAIN credentials") }
            let name = request.credentials[0]
            guard let table = Self.lookup(passwords, request.domain) else {
                return refuse(passwords.isEmpty ? "No passwords defined" : "Unknown domain")
            }
            // Compared whole, as bytes: no early exit that depends on where they differ.
            // User names compare as bytes (String equality would let another spelling of the same
            // characters in); every entry is looked at, so the time does not tell whether the
            // name exists.
            var match: (user: String, password: String)?
            for (user, password) in table where Self.constantTimeEqual(Array(user.utf8), name) { match = (user, password) }
            guard let match, Self.constantTimeEqual(Array(match.password.utf8), request.credentials[1]) else {
                return refuse("Invalid username or password")
            }
            return .accept(userID: match.user)
        case .curve:
            guard request.credentials.count == 1 else { return refuse("Malformed CURVE credentials") }
            let key = request.credentials[0]
            guard let keys = Self.lookup(curveKeys, request.domain) else {
                return refuse(curveKeys.isEmpty ? "No CURVE keys defined" : "Unknown domain")
            }
            switch keys {
            case .any: break
            case .only(let allowed): guard allowed.contains(key) else { return refuse("Unknown key") }
            }
            return .accept(userID: (try? Z85.encode(key)) ?? "")
        }
    }

    private func refuse(_ reason: String) -> AuthenticationReply {
        AuthenticationReply(statusCode: "400", statusText: reason)
    }

    /// The domain's own entry, else the "*" entry.
    private static func lookup<Value>(_ table: [String: Value], _ domain: String) -> Value? {
        table[domain.isEmpty ? anyDomain : domain] ?? table[anyDomain]
    }

    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
