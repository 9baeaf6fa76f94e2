import Foundation
import Testing
import ZeroMQ

/// CURVE certificate files shared with pyzmq's `zmq.auth` (the same ZPL format as CZMQ's
/// `zcert`), both ways, and used to secure a real exchange.
@Suite("Certificates")
struct CertificateInteropTests {
    /// Runs a pyzmq snippet with Debian's python3; returns its standard output.
    static func python(_ code: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", code] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self)
    }

    static func directory() throws -> String {
        let path = NSTemporaryDirectory() + "zmq-certs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("certificates this library saves are what pyzmq's zmq.auth.load_certificate reads, and the secret file is 0600")
    func pyzmqReadsOurs() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let certificate = try CurveCertificate.generate(metadata: [("name", "swift server"), ("email", "ops@example.org")])
        try certificate.save(publicTo: dir + "/server.key", secretTo: dir + "/server.key_secret")
        let read = try Self.python("""
            import sys, zmq.auth
            p, s = zmq.auth.load_certificate(sys.argv[1])
            print(p.decode(), s.decode())
            p, s = zmq.auth.load_certificate(sys.argv[2])
            print(p.decode(), s)
            """, [dir + "/server.key_secret", dir + "/server.key"])
        let lines = read.split(separator: "\n")
        #expect(lines.first == "\(certificate.publicKeyZ85) \(certificate.secretKeyZ85 ?? "")")
        #expect(lines.dropFirst().first == "\(certificate.publicKeyZ85) None")
        let attributes = try FileManager.default.attributesOfItem(atPath: dir + "/server.key_secret")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        // And back: the same keys and metadata.
        #expect(try CurveCertificate.load(from: dir + "/server.key_secret") == certificate)
        #expect(try CurveCertificate.load(from: dir + "/server.key") == certificate.publicCertificate)
    }

    @Test("certificates pyzmq's zmq.auth.create_certificates writes load here with their keys and metadata")
    func weReadPyzmqs() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let keys = try Self.python("""
            import sys, zmq.auth
            public, secret = zmq.auth.create_certificates(sys.argv[1], "client", metadata={"role": "tester"})
            p, s = zmq.auth.load_certificate(secret)
            print(p.decode(), s.decode())
            """, [dir]).split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let secret = try CurveCertificate.load(from: dir + "/client.key_secret")
        #expect(secret.publicKeyZ85 == keys.first)
        #expect(secret.secretKeyZ85 == keys.last)
        #expect(secret.metadata.map(\.name) == ["role"])
        #expect(secret.metadata.map(\.value) == ["tester"])
        let publicOnly = try CurveCertificate.load(from: dir + "/client.key")
        #expect(publicOnly.secretKey == nil)
        #expect(publicOnly.publicKey == secret.publicKey)
    }

    @Test("a malformed certificate is a typed error naming what is wrong, never a crash")
    func malformed() {
        let cases = [
            "",                                                          // no public key
            "curve\n    public-key = \"short\"\n",                       // not 40 characters
            "curve\n    public-key\n",                                   // no '='
            "curve\n    public-key = \"" + String(repeating: "~", count: 40) + "\"\n", // not Z85
        ]
        for text in cases {
            #expect(throws: ZeroMQError.self) { try CurveCertificate.parse(text) }
        }
        // A secret key that does not match the public key.
        let a = try? CurveCertificate.generate()
        let b = try? CurveCertificate.generate()
        if let a, let b {
            let mixed = "curve\n    public-key = \"\(a.publicKeyZ85)\"\n    secret-key = \"\(b.secretKeyZ85 ?? "")\"\n"
            #expect(throws: ZeroMQError.self) { try CurveCertificate.parse(mixed) }
        }
    }

    @Test("certificates loaded from files secure a CURVE REQ/REP with a pyzmq-made client certificate")
    func secureExchangeFromFiles() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try CurveCertificate.generate().save(publicTo: dir + "/server.key", secretTo: dir + "/server.key_secret")
        _ = try Self.python("import sys, zmq.auth; zmq.auth.create_certificates(sys.argv[1], 'client')", [dir])
        let context = try Context()
        defer { context.terminate() }
        let server = try context.socket(.rep)
        server.options.security = try CurveCertificate.load(from: dir + "/server.key_secret").serverSecurity()
        server.options.linger = .zero
        server.options.receiveTimeout = .seconds(10)
        try server.bind("tcp://127.0.0.1:*")
        let client = try context.socket(.req)
        client.options.security = try CurveCertificate.load(from: dir + "/client.key_secret")
            .clientSecurity(server: try CurveCertificate.load(from: dir + "/server.key"))
        client.options.linger = .zero
        client.options.receiveTimeout = .seconds(10)
        try client.connect(server.lastEndpoint)
        try client.send("hello")
        #expect(try server.receiveString() == "hello")
        try server.send("world")
        #expect(try client.receiveString() == "world")
        server.close()
        client.close()
    }
}
