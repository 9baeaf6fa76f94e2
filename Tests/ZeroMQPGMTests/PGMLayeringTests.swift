import Foundation
import Testing

/// PGM is a transport like tcp: it stands on the transport module and the core, never on the
/// sockets (issue 15, "transports on one floor").
@Suite("PGM layering")
struct PGMLayeringTests {
    @Test func thePGMModuleImportsTheTransportModuleNotTheSockets() throws {
        let root = String(#filePath).components(separatedBy: "/Tests/")[0]
        let folder = root + "/Sources/ZeroMQPGM"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".swift") }
        #expect(files.count > 5)
        var modules: Set<String> = []
        for file in files {
            let text = try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ")
                if let index = words.firstIndex(of: "import"), index + 1 < words.count { modules.insert(String(words[index + 1])) }
            }
        }
        #expect(!modules.contains("ZeroMQ"), "ZeroMQPGM imports the socket module")
        #expect(modules.contains("ZeroMQTransport"))
    }
}
