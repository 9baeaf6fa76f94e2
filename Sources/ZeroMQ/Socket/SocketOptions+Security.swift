import ZMTP
import ZMTPSodium

/// The security options as libzmq keeps them (`options_t`): a mechanism, a role, and the
/// settings each option writes, resolved into a ``SecurityMechanism`` at bind or connect.
struct SecuritySettings: Sendable {
    var mechanism: MechanismName = .null
    var asServer = false
    var plainUsername: [UInt8] = []
    var plainPassword: [UInt8] = []
    var curvePublicKey: CurveKey?
    var curveSecretKey: CurveKey?
    var curveServerKey: CurveKey?
    var zapDomain = ""
    var zapEnforceDomain = false
}

/// Security, with libzmq's option names and semantics (`zmq_setsockopt(3)`, RFC 23, 24, 26, 27).
///
/// As in libzmq the mechanism is the one the last mechanism option chose: PLAIN_SERVER and
/// CURVE_SERVER choose PLAIN or CURVE as server (or NULL when cleared), PLAIN_USERNAME and
/// PLAIN_PASSWORD choose a PLAIN client (NULL when set empty), CURVE_SERVERKEY a CURVE client,
/// CURVE_PUBLICKEY and CURVE_SECRETKEY choose CURVE without changing the role. Keys may be set
/// in any order; bind and connect check that the chosen mechanism has what it needs.
///
/// ```swift
/// server.options.curveServer = true
/// server.options.curveSecretKey = try CurveKey(z85: serverSecret)
/// client.options.curveServerKey = try CurveKey(z85: serverPublic)
/// client.options.curvePublicKey = try CurveKey(z85: clientPublic)
/// client.options.curveSecretKey = try CurveKey(z85: clientSecret)
/// ```
extension SocketOptions {
    /// ZMQ_PLAIN_SERVER: act as PLAIN server (the side that checks credentials through ZAP).
    public var plainServer: Bool {
        get { securitySettings.mechanism == .plain && securitySettings.asServer }
        set {
            securitySettings.asServer = newValue
            securitySettings.mechanism = newValue ? .plain : .null
        }
    }

    /// ZMQ_PLAIN_USERNAME: the PLAIN client's user name (at most 255 bytes; empty: NULL).
    public var plainUsername: String {
        get { String(decoding: securitySettings.plainUsername, as: UTF8.self) }
        set { setPlainCredential(\.plainUsername, newValue) }
    }

    /// ZMQ_PLAIN_PASSWORD: the PLAIN client's password (at most 255 bytes; empty: NULL).
    public var plainPassword: String {
        get { String(decoding: securitySettings.plainPassword, as: UTF8.self) }
        set { setPlainCredential(\.plainPassword, newValue) }
    }

    private mutating func setPlainCredential(_ field: WritableKeyPath<SecuritySettings, [UInt8]>, _ value: String) {
        securitySettings[keyPath: field] = Array(value.utf8)
        securitySettings.asServer = false
        securitySettings.mechanism = value.isEmpty ? .null : .plain
    }

    /// ZMQ_CURVE_SERVER: act as CURVE server (needs ``curveSecretKey``).
    public var curveServer: Bool {
        get { securitySettings.mechanism == .curve && securitySettings.asServer }
        set {
            securitySettings.asServer = newValue
            securitySettings.mechanism = newValue ? .curve : .null
        }
    }

    /// ZMQ_CURVE_PUBLICKEY: our long-term public key (a client's; a server's may be left out,
    /// it follows from the secret key).
    public var curvePublicKey: CurveKey? {
        get { securitySettings.curvePublicKey }
        set {
            securitySettings.curvePublicKey = newValue
            if newValue != nil { securitySettings.mechanism = .curve }
        }
    }

    /// ZMQ_CURVE_SECRETKEY: our long-term secret key.
    public var curveSecretKey: CurveKey? {
        get { securitySettings.curveSecretKey }
        set {
            securitySettings.curveSecretKey = newValue
            if newValue != nil { securitySettings.mechanism = .curve }
        }
    }

    /// ZMQ_CURVE_SERVERKEY: the server's public key, which makes this socket a CURVE client.
    public var curveServerKey: CurveKey? {
        get { securitySettings.curveServerKey }
        set {
            securitySettings.curveServerKey = newValue
            if newValue != nil {
                securitySettings.asServer = false
                securitySettings.mechanism = .curve
            }
        }
    }

    /// ZMQ_ZAP_DOMAIN: the domain sent in ZAP requests; for NULL, a non-empty domain turns
    /// ZAP on (RFC 27).
    public var zapDomain: String {
        get { securitySettings.zapDomain }
        set { securitySettings.zapDomain = newValue }
    }

    /// ZMQ_ZAP_ENFORCE_DOMAIN: with no ZAP handler bound, fail the handshake instead of letting
    /// NULL (with a domain) and CURVE clients in (strict RFC 27). PLAIN always needs a handler.
    public var zapEnforceDomain: Bool {
        get { securitySettings.zapEnforceDomain }
        set { securitySettings.zapEnforceDomain = newValue }
    }

    /// The mechanism and role the options describe, in one value: setting it sets every
    /// option above (the ZAP domain included, ZAP_ENFORCE_DOMAIN excepted). Reading it while a
    /// CURVE key is still missing gives NULL; ``resolvedSecurity()`` says what is missing.
    ///
    /// At the socket level a server asks the ZAP handler whenever one is bound, as libzmq does,
    /// so ``/ZMTP/Security/curveServer(keyPair:zapDomain:authenticate:)``'s `authenticate` only
    /// matters to drivers of the core.
    public var security: SecurityMechanism {
        get { (try? resolvedSecurity()) ?? .null(zapDomain: zapDomain.isEmpty ? nil : zapDomain) }
        set {
            let enforce = securitySettings.zapEnforceDomain
            var settings = SecuritySettings()
            settings.zapEnforceDomain = enforce
            switch newValue {
            case .null(let domain):
                settings.zapDomain = domain ?? ""
            case .plainClient(let username, let password):
                settings.mechanism = .plain
                settings.plainUsername = username
                settings.plainPassword = password
            case .plainServer(let domain):
                settings.mechanism = .plain
                settings.asServer = true
                settings.zapDomain = domain
            case .curveClient(let serverPublicKey, let keyPair):
                settings.mechanism = .curve
                settings.curveServerKey = try? CurveKey(serverPublicKey)
                settings.curvePublicKey = try? CurveKey(keyPair.publicKey)
                settings.curveSecretKey = try? CurveKey(keyPair.secretKey)
            case .curveServer(let keyPair, let domain, _):
                settings.mechanism = .curve
                settings.asServer = true
                settings.curvePublicKey = try? CurveKey(keyPair.publicKey)
                settings.curveSecretKey = try? CurveKey(keyPair.secretKey)
                settings.zapDomain = domain
            }
            securitySettings = settings
        }
    }

    /// The ``SecurityMechanism`` a bind or connect uses.
    /// - Throws: ``ZeroMQError/Code/invalidArgument`` when the chosen mechanism lacks what it
    ///   needs: a CURVE server its secret key, a CURVE client the server's key or its own
    ///   secret key; when a public key set alongside is not the secret key's; or when a PLAIN
    ///   credential is over 255 bytes.
    public func resolvedSecurity() throws(ZeroMQError) -> SecurityMechanism {
        let s = securitySettings
        switch s.mechanism {
        case .null:
            return .null(zapDomain: s.zapDomain.isEmpty ? nil : s.zapDomain)
        case .plain:
            if s.asServer { return .plainServer(zapDomain: s.zapDomain) }
            guard s.plainUsername.count <= 255, s.plainPassword.count <= 255 else {
                throw ZeroMQError(.invalidArgument, "PLAIN user names and passwords are at most 255 bytes (RFC 24)")
            }
            return .plainClient(username: s.plainUsername, password: s.plainPassword)
        case .curve:
            guard let secret = s.curveSecretKey else {
                throw ZeroMQError(.invalidArgument, "CURVE needs CURVE_SECRETKEY")
            }
            let pair: CurveKeyPair
            do throws(ZMTPError) {
                pair = try CurveKeyPair.from(secretKey: secret.bytes, crypto: SodiumCurveCrypto())
            } catch {
                throw ZeroMQError(.invalidArgument, error.description)
            }
            if let given = s.curvePublicKey, given.bytes != pair.publicKey {
                throw ZeroMQError(.invalidArgument, "CURVE_PUBLICKEY is not CURVE_SECRETKEY's public key")
            }
            if s.asServer { return .curveServer(keyPair: pair, zapDomain: s.zapDomain, authenticate: true) }
            guard let server = s.curveServerKey else {
                throw ZeroMQError(.invalidArgument, "a CURVE client needs CURVE_SERVERKEY")
            }
            return .curveClient(serverPublicKey: server.bytes, keyPair: pair)
        }
    }
}
