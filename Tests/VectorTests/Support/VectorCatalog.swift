import ZMTPConformance
import Foundation
import Testing

/// One case of one vector file, as handed to the parameterized test.
struct VectorCase: Sendable, CustomTestStringConvertible {
    /// The file, relative to `Vectors/` (for example `regressions/frame-v3-crash.json`).
    var file: String
    /// The file's `kind`, which picks the runner.
    var kind: String
    /// The case's `name` (unique within its file).
    var name: String
    /// The whole case object.
    var json: JSON
    /// Set when the file itself could not be loaded: the case then fails with this message.
    var loadError: String? = nil

    var testDescription: String { "\(file): \(name)" }

    /// The case's `knownFailure` reason: the implementation is known to disagree with this case.
    var knownFailure: String? { json["knownFailure"]?.stringValue }
}

/// Finds and loads every `.json` file under `Vectors/`, recursively.
enum VectorCatalog {
    /// `Vectors/`, found from this source file: Tests/VectorTests/Support/VectorCatalog.swift.
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // VectorTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .appendingPathComponent("Vectors", isDirectory: true)

    /// Every case of every file, in file order then case order.
    static let all: [VectorCase] = load()

    /// The relative paths of every `.json` file under `Vectors/`, sorted.
    static func files() -> [String] {
        let root = directory.standardizedFileURL.path
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
        var found: [String] = []
        while let next = enumerator.nextObject() as? String {
            if next.hasSuffix(".json") { found.append(next) }
        }
        return found.sorted()
    }

    static func load() -> [VectorCase] {
        let paths = files()
        guard !paths.isEmpty else {
            return [VectorCase(file: "Vectors/", kind: "", name: "(no vector files)", json: .null,
                               loadError: "no .json files found under \(directory.path)")]
        }
        var cases: [VectorCase] = []
        for path in paths {
            cases.append(contentsOf: load(path))
        }
        return cases
    }

    /// The cases of one file, or a single failing case that says why the file is unusable.
    static func load(_ path: String) -> [VectorCase] {
        func broken(_ message: String) -> [VectorCase] {
            [VectorCase(file: path, kind: "", name: "(file)", json: .null, loadError: message)]
        }
        let url = directory.appendingPathComponent(path)
        guard let data = FileManager.default.contents(atPath: url.path) else { return broken("cannot read \(url.path)") }
        let root: JSON
        do {
            root = try JSON.parse(String(decoding: data, as: UTF8.self))
        } catch {
            return broken("\(error)")
        }
        guard root.objectMembers != nil else { return broken("the file is not a JSON object") }
        let allowed: Set<String> = ["description", "source", "kind", "cases", "generatedBy"]
        let unknown = root.keys.filter { !allowed.contains($0) }
        guard unknown.isEmpty else { return broken("unknown top-level members \(unknown)") }
        for key in ["description", "source", "kind"] {
            guard let s = root[key]?.stringValue, !s.isEmpty else { return broken("missing top-level string \"\(key)\"") }
        }
        guard let kind = root["kind"]?.stringValue else { return broken("missing kind") }
        guard let items = root["cases"]?.arrayValue, !items.isEmpty else { return broken("missing or empty \"cases\"") }
        var seen: Set<String> = []
        var cases: [VectorCase] = []
        // Fuzzing regressions are written by the harnesses: a case may leave out its name,
        // description and source, which then default to "case N" and the file's own.
        let lenient = kind == "fuzz-regression"
        for (index, item) in items.enumerated() {
            var name = item["name"]?.stringValue ?? ""
            if name.isEmpty && lenient { name = "case \(index)" }
            var vector = VectorCase(file: path, kind: kind, name: name.isEmpty ? "(case \(index))" : name, json: item)
            let described = !(item["description"]?.stringValue ?? "").isEmpty && !(item["source"]?.stringValue ?? "").isEmpty
            if item.objectMembers == nil {
                vector.loadError = "case \(index) is not an object"
            } else if name.isEmpty {
                vector.loadError = "case \(index) has no name"
            } else if !seen.insert(name).inserted {
                vector.loadError = "duplicate case name \"\(name)\""
            } else if !described && !lenient {
                vector.loadError = "case \"\(name)\" needs a non-empty description and source"
            }
            cases.append(vector)
        }
        return cases
    }
}
