import Foundation
import Testing

/// The core's contract with its embedders: it imports nothing but the standard library, so it has
/// no sockets, threads, clock or global randomness of its own (STYLE.md, "The sans-IO contract").
@Suite("Layering")
struct LayeringTests {
    @Test func theCoreImportsNothingButTheStandardLibrary() throws {
        let root = String(#filePath).components(separatedBy: "/Tests/")[0]
        let core = root + "/Sources/ZMTP"
        let files = try FileManager.default.subpathsOfDirectory(atPath: core).filter { $0.hasSuffix(".swift") }
        #expect(files.count > 10)
        for file in files {
            let text = try String(contentsOfFile: core + "/" + file, encoding: .utf8)
            let imports = text.split(separator: "\n").filter {
                let line = $0.trimmingCharacters(in: .whitespaces)
                return line.hasPrefix("import ") || line.hasPrefix("@_exported import ") || line.hasPrefix("@preconcurrency import ")
            }
            #expect(imports.isEmpty, "\(file) imports \(imports)")
        }
    }
}
