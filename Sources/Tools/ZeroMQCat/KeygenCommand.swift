#if Tools  // zmqcat is built with the package trait "Tools" only (Package.swift)
import ArgumentParser
import ZeroMQ
import ZMTPSodium

/// `zmqcat keygen`: a CURVE key pair from libsodium, in Z85 (libzmq's `curve_keygen`,
/// `zmq_curve_keypair`), or the public key of a given secret key (`zmq_curve_public`).
public struct KeygenCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Print a new CURVE key pair: the public key, then the secret key, in Z85.",
        discussion: """
            The text output is two lines, `public: <z85>` and `secret: <z85>`; a file holding it \
            can be given to --curve-secret, --curve-serverkey and the other key options as @FILE \
            (each takes the line it needs). Keep the secret key secret: give the public key to \
            the peers.
            """)

    @Option(name: .customLong("secret"), help: ArgumentHelp(
        "Print the pair of this secret key (Z85 or @FILE) instead of a new one.", valueName: "z85"))
    public var secret: String?

    @Option(name: [.customShort("f"), .customLong("format")], help: ArgumentHelp(
        "text (Z85 lines), hex (hex lines) or json ({\"public\": z85, \"secret\": z85}).", valueName: "format"))
    public var format: OutputFormat = .text

    public init() {}

    public func validate() throws {
        if let secret {
            do {
                _ = try curveKey(secret, "--secret", role: .secret)
            } catch {
                throw ValidationError(error.message)
            }
        }
    }

    func execute(_ console: Console) -> ExitStatus {
        let pair: CurveKeyPair
        do {
            if let secret {
                let secretKey = try curveKey(secret, "--secret", role: .secret)
                pair = try CurveKeyPair.from(secretKey: secretKey, crypto: SodiumCurveCrypto())
            } else {
                pair = CurveKeys.generate()
            }
        } catch {
            console.errors.write(Array("zmqcat: \(error)\n".utf8))
            return .usage
        }
        // 32-byte keys always encode.
        let publicText = (try? CurveKeys.z85(pair.publicKey)) ?? ""
        let secretText = (try? CurveKeys.z85(pair.secretKey)) ?? ""
        let text: String
        switch format {
        case .text: text = "public: \(publicText)\nsecret: \(secretText)\n"
        case .hex: text = "public: \(hexString(pair.publicKey))\nsecret: \(hexString(pair.secretKey))\n"
        case .json: text = #"{"public":"# + jsonString(publicText) + #","secret":"# + jsonString(secretText) + "}\n"
        }
        console.output.write(Array(text.utf8))
        return .success
    }
}
#endif  // Tools
