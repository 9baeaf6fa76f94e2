import ZMTPConformance
import Testing
import ZMTP

/// Runs every case of every `.json` file under `Vectors/` (recursively, so fuzzing regressions in
/// `Vectors/regressions/` are included), each reported by its file and name. The file's `kind`
/// picks the runner; the format of each kind is in Vectors/README.md. Adding a file needs no code.
@Suite("Conformance vectors")
struct VectorTests {
    @Test("vector", arguments: VectorCatalog.all)
    func vector(_ vector: VectorCase) throws {
        if let problem = vector.loadError {
            Issue.record(Comment(rawValue: "\(vector.file): \(problem)"))
            return
        }
        if let reason = vector.knownFailure {
            // The implementation is known to disagree with this case (the case, derived from the
            // RFCs or libzmq, is right). withKnownIssue also fails once the disagreement is gone,
            // so that the marker gets removed.
            withKnownIssue(Comment(rawValue: reason)) {
                try VectorRunner.run(vector)
            }
        } else {
            try VectorRunner.run(vector)
        }
    }

    @Test("the vectors are numerous and every kind has a runner")
    func catalog() {
        let cases = VectorCatalog.all.filter { $0.loadError == nil }
        #expect(cases.count >= 150, "only \(cases.count) cases")
        for kind in Set(cases.map(\.kind)) {
            #expect(VectorRunner.kinds.contains(kind), "no runner for kind \(kind)")
        }
    }
}

/// Dispatches a case to the runner of its kind.
enum VectorRunner {
    static let kinds: Set<String> = [
        "greeting", "frame", "frame-error", "command", "metadata", "z85", "curve-key", "connection", "handshake",
        "fuzz-regression", "curve-hello", "socket",
    ]

    static func run(_ vector: VectorCase) throws {
        switch vector.kind {
        case "greeting": try GreetingVectors.run(vector)
        case "frame": try FrameVectors.run(vector)
        case "frame-error": try FrameVectors.runError(vector)
        case "command": try CommandVectors.run(vector)
        case "metadata": try CommandVectors.runMetadata(vector)
        case "z85": try Z85Vectors.run(vector)
        case "curve-key": try Z85Vectors.runCurveKey(vector)
        case "connection": try ConnectionVectors.run(vector)
        case "handshake": try HandshakeVectors.run(vector)
        case "fuzz-regression": try FuzzRegressionVectors.run(vector)
        case "curve-hello": try CurveHelloVectors.run(vector)
        case "socket": try SocketVectors.run(vector)
        default:
            Issue.record(Comment(rawValue: "\(vector.file): unknown kind \"\(vector.kind)\" (see Vectors/README.md)"))
        }
    }
}

extension Fields {
    /// Reads the members every case has (`name`, `description`, `source`, `knownFailure`).
    init(case vector: VectorCase) throws {
        try self.init(vector.json, vector.name)
        for key in ["name", "description", "source", "knownFailure", "differs"] { _ = optional(key) }
    }
}

/// Records a failure of the running case (Swift Testing attributes it to the case's argument).
func fail(_ message: String) {
    Issue.record(Comment(rawValue: message))
}
