import Foundation
import ZMTP
import ZMTPSodium

/// A CURVE key pair (or a peer's public key alone) with metadata, and the certificate files
/// CZMQ (`zcert`) and pyzmq (`zmq.auth`) read and write.
///
/// A certificate file is text in ZPL, CZMQ's property language: a `metadata` section with
/// `name = "value"` lines and a `curve` section with `public-key` and, in the secret file only,
/// `secret-key`, each a 40-character Z85 key (RFC 32), indented by four spaces; `#` starts a
/// comment. The public file can be handed to peers; the secret one is written readable by its
/// owner only.
///
/// ```swift
/// let server = try CurveCertificate.generate()
/// try server.save(publicTo: "server.key", secretTo: "server.key_secret")
/// let loaded = try CurveCertificate.load(from: "server.key_secret")   // keys and metadata
/// socket.options.security = try loaded.serverSecurity()
/// ```
public struct CurveCertificate: Sendable, Equatable {
    /// The 32-byte public key.
    public var publicKey: [UInt8]
    /// The 32-byte secret key; nil for a peer's public certificate.
    public var secretKey: [UInt8]?
    /// The certificate's metadata, in file order (CZMQ's `metadata` section).
    public var metadata: [(name: String, value: String)]

    /// The largest certificate file read (a certificate is a few hundred bytes).
    public static let maxFileSize = 64 * 1024

    /// - Throws: ``ZeroMQError/Code/invalidArgument`` unless the keys are 32 bytes, not all
    ///   zero, and the secret key (when given) yields the public key.
    public init(publicKey: [UInt8], secretKey: [UInt8]? = nil, metadata: [(name: String, value: String)] = []) throws(ZeroMQError) {
        guard publicKey.count == CurveKeyPair.keyLength, publicKey.contains(where: { $0 != 0 }) else {
            throw ZeroMQError(.invalidArgument, "a CURVE public key is 32 bytes, not all zero")
        }
        if let secretKey {
            let derived: [UInt8]
            do throws(ZMTPError) {
                derived = try CurveKeyPair.from(secretKey: secretKey, crypto: SodiumCurveCrypto()).publicKey
            } catch {
                throw ZeroMQError(.invalidArgument, error.description)
            }
            guard derived == publicKey else { throw ZeroMQError(.invalidArgument, "the public key is not the secret key's") }
        }
        self.publicKey = publicKey
        self.secretKey = secretKey
        self.metadata = metadata
    }

    /// A new key pair from libsodium's random source (`zmq_curve_keypair`, `zcert_new`).
    public static func generate(metadata: [(name: String, value: String)] = []) throws(ZeroMQError) -> CurveCertificate {
        let pair: CurveKeyPair
        do throws(ZMTPError) {
            pair = try CurveKeyPair.generate(crypto: SodiumCurveCrypto(), random: SodiumRandom())
        } catch {
            throw ZeroMQError(.system, error.description)
        }
        return try CurveCertificate(publicKey: pair.publicKey, secretKey: pair.secretKey, metadata: metadata)
    }

    /// The certificate of `secretKey` (`zmq_curve_public`: the public key from the secret key).
    public init(secretKey: [UInt8], metadata: [(name: String, value: String)] = []) throws(ZeroMQError) {
        let pair: CurveKeyPair
        do throws(ZMTPError) {
            pair = try CurveKeyPair.from(secretKey: secretKey, crypto: SodiumCurveCrypto())
        } catch {
            throw ZeroMQError(.invalidArgument, error.description)
        }
        try self.init(publicKey: pair.publicKey, secretKey: pair.secretKey, metadata: metadata)
    }

    /// The public key in Z85 (40 characters).
    public var publicKeyZ85: String { (try? Z85.encode(publicKey)) ?? "" }

    /// The secret key in Z85, if there is one.
    public var secretKeyZ85: String? { secretKey.flatMap { try? Z85.encode($0) } }

    /// This certificate without its secret key: what peers get.
    public var publicCertificate: CurveCertificate {
        var copy = self
        copy.secretKey = nil
        return copy
    }

    public static func == (lhs: CurveCertificate, rhs: CurveCertificate) -> Bool {
        lhs.publicKey == rhs.publicKey && lhs.secretKey == rhs.secretKey
            && lhs.metadata.map(\.name) == rhs.metadata.map(\.name) && lhs.metadata.map(\.value) == rhs.metadata.map(\.value)
    }

    // MARK: Security

    /// This certificate as a CURVE server's security (libzmq's CURVE_SERVER with
    /// CURVE_SECRETKEY). Clients' keys go to the context's ZAP handler (an ``Authenticator``)
    /// when one is bound, as in libzmq; without one any client is accepted.
    public func serverSecurity(zapDomain: String = "") throws(ZeroMQError) -> SecurityMechanism {
        .curveServer(keyPair: try keyPair(), zapDomain: zapDomain, authenticate: true)
    }

    /// The public key as the CURVE options and the ``Authenticator`` take it.
    public var curvePublicKey: CurveKey {
        get throws(ZeroMQError) { try CurveKey(publicKey) }
    }

    /// This certificate as a CURVE client's security toward `server` (CURVE_SERVERKEY).
    public func clientSecurity(server: CurveCertificate) throws(ZeroMQError) -> SecurityMechanism {
        .curveClient(serverPublicKey: server.publicKey, keyPair: try keyPair())
    }

    private func keyPair() throws(ZeroMQError) -> CurveKeyPair {
        guard let secretKey else { throw ZeroMQError(.invalidArgument, "a public certificate has no secret key") }
        do throws(ZMTPError) {
            return try CurveKeyPair(publicKey: publicKey, secretKey: secretKey)
        } catch {
            throw ZeroMQError(.invalidArgument, error.description)
        }
    }
}
