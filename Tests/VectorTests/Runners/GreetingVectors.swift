import ZMTPConformance
import ZMTP

/// Kind "greeting": ``Greeting/detect(_:)`` on the bytes, on every prefix of them, and (for
/// canonical greetings) ``Greeting/encoded()``.
enum GreetingVectors {
    /// What detection should say, decoded from `expect`.
    enum Expected: Equatable {
        case needMore(Int)
        case zmtp1Unversioned
        case versioned(revision: UInt8, socketType: UInt8)
        case zmtp3(major: UInt8, minor: UInt8, field: [UInt8], name: MechanismName?, asServer: Bool)
        case error(ZMTPError.Code)
    }

    static func run(_ vector: VectorCase) throws {
        var f = try Fields(case: vector)
        let bytes = try f.bytes("bytes")
        let expected = try decode(try f.required("expect"), "\(vector.name).expect")
        let canonical = try f.bool("canonical", default: false)
        try f.finish()

        // The whole input.
        let actual = outcome(bytes)
        if actual != expected {
            fail("detect(\(Vectors.show(bytes))) gave \(actual), expected \(expected)")
        }

        // Every prefix: undecided (asking for more than it has, and staying undecided until it has
        // what it asked for) or already the final answer.
        var waitingFor = 0
        for length in 0..<bytes.count {
            let r = outcome(Array(bytes.prefix(length)))
            switch r {
            case .needMore(let total):
                if total <= length { fail("prefix of \(length) B: needMore(total: \(total)) asks for no new byte") }
                waitingFor = max(waitingFor, total)
            default:
                if length < waitingFor {
                    fail("prefix of \(length) B decided \(r) before the \(waitingFor) B it asked for")
                }
                if r != expected { fail("prefix of \(length) B gave \(r), expected needMore or \(expected)") }
            }
        }

        if canonical {
            guard case .zmtp3(let major, let minor, _, let name?, let asServer) = expected, major == 3 else {
                throw VectorFormatError("\(vector.name): canonical needs a ZMTP 3 result with a known mechanism")
            }
            let encoded = Greeting(minor: minor, mechanism: name, asServer: asServer).encoded()
            if encoded != bytes { fail("encoded greeting \(Vectors.show(encoded)), expected \(Vectors.show(bytes))") }
        }
    }

    static func outcome(_ bytes: [UInt8]) -> Expected {
        do throws(ZMTPError) {
            switch try Greeting.detect(bytes) {
            case .needMore(let total): return .needMore(total)
            case .zmtp1Unversioned: return .zmtp1Unversioned
            case .versioned(let revision, let socketType): return .versioned(revision: revision, socketType: socketType)
            case .zmtp3(let g): return .zmtp3(major: g.major, minor: g.minor, field: g.mechanism, name: g.mechanismName, asServer: g.asServer)
            }
        } catch {
            if error.blame != .peerMisbehaved && error.blame != .peerIncompatible {
                fail("detect threw \(error), not a peer error")
            }
            return .error(error.code)
        }
    }

    static func decode(_ json: JSON, _ context: String) throws -> Expected {
        var f = try Fields(json, context)
        let result: Expected
        switch try f.string("result") {
        case "needMore":
            result = .needMore(try f.int("total"))
        case "zmtp1Unversioned":
            result = .zmtp1Unversioned
        case "versioned":
            guard let r = UInt8(exactly: try f.int("revision")), let t = UInt8(exactly: try f.int("socketType")) else {
                throw VectorFormatError("\(context): revision and socketType are octets")
            }
            result = .versioned(revision: r, socketType: t)
        case "zmtp3":
            guard let major = UInt8(exactly: try f.int("major")), let minor = UInt8(exactly: try f.int("minor")) else {
                throw VectorFormatError("\(context): major and minor are octets")
            }
            let nameText = try f.optionalString("mechanismName")
            let name = try nameText.map { try Vectors.mechanism($0, "\(context).mechanismName") }
            let field: [UInt8]
            if let given = try f.optionalBytes("mechanismField") {
                field = given
            } else if let name {
                field = name.greetingField
            } else {
                throw VectorFormatError("\(context): give mechanismField when mechanismName is null")
            }
            guard field.count == 20 else { throw VectorFormatError("\(context).mechanismField must be 20 octets") }
            result = .zmtp3(major: major, minor: minor, field: field, name: name, asServer: try f.bool("asServer", default: false))
        case "error":
            result = .error(try Vectors.errorCode(try f.string("error"), "\(context).error"))
        case let other:
            throw VectorFormatError("\(context).result: unknown result \(other)")
        }
        try f.finish()
        return result
    }
}
