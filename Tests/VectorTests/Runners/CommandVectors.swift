import ZMTPConformance
import ZMTP

/// Kinds "command" (``Command/parse(_:)`` and, for canonical commands, ``Command/encoded()``) and
/// "metadata" (``Metadata/parse(_:errorCode:)`` and ``Metadata/encode(into:)``).
enum CommandVectors {
    // MARK: command

    static func run(_ vector: VectorCase) throws {
        var f = try Fields(case: vector)
        let frame = try f.optionalBytes("frame")
        let bodyOnly = try f.optionalBytes("body")
        let expectedJSON = f.optional("command")
        let errorName = try f.optionalString("error")
        let canonical = try f.bool("canonical", default: false)
        try f.finish()
        guard (frame != nil) != (bodyOnly != nil) else { throw VectorFormatError("\(vector.name): give exactly one of frame and body") }
        guard (expectedJSON != nil) != (errorName != nil) else { throw VectorFormatError("\(vector.name): give exactly one of command and error") }
        if canonical && expectedJSON == nil { throw VectorFormatError("\(vector.name): canonical needs command") }

        // The command body, from the frame when one is given (a single ZMTP 3.x command frame).
        var body: [UInt8]
        if let frame {
            let outcome = FrameVectors.decode(frame, version: .zmtp3, maxMessageSize: nil, feed: .whole, limit: 1)
            guard outcome.error == nil, outcome.frames.count == 1, case .command(let b) = outcome.frames[0],
                  outcome.consumed == frame.count
            else {
                fail("frame \(Vectors.show(frame)) is not exactly one command frame: \(FrameVectors.show(outcome.frames)) \(outcome.error.map { "\($0)" } ?? "")")
                return
            }
            body = b
        } else {
            body = bodyOnly ?? []
        }

        let parsed: Result<Command, ZMTPError>
        do throws(ZMTPError) {
            parsed = .success(try Command.parse(body[...]))
        } catch {
            parsed = .failure(error)
        }

        if let expectedJSON {
            let expected = try Vectors.command(expectedJSON, "\(vector.name).command")
            switch parsed {
            case .success(let command):
                if !Vectors.sameCommand(command, expected) {
                    fail("parsed \(Vectors.commandJSON(command).compact), expected \(Vectors.commandJSON(expected).compact)")
                }
            case .failure(let error):
                fail("parse failed with \(error), expected \(expectedJSON.compact)")
            }
            if canonical {
                do throws(ZMTPError) {
                    let encoded = try expected.encoded()
                    if encoded != body { fail("encoded body \(Vectors.show(encoded)), expected \(Vectors.show(body))") }
                    if let frame {
                        var framed: [UInt8] = []
                        FrameEncoder.encodeCommand(encoded, into: &framed)
                        if framed != frame { fail("encoded frame \(Vectors.show(framed)), expected \(Vectors.show(frame))") }
                    }
                } catch {
                    fail("encoding failed with \(error)")
                }
            }
        } else if let errorName {
            let code = try Vectors.errorCode(errorName, "\(vector.name).error")
            switch parsed {
            case .success(let command):
                fail("parsed \(Vectors.commandJSON(command).compact), expected error \(errorName)")
            case .failure(let error):
                if error.code != code { fail("error \(error), expected \(errorName)") }
                if error.blame != .peerMisbehaved { fail("blame \(error.blame), expected peerMisbehaved") }
            }
        }
    }

    // MARK: metadata

    static func runMetadata(_ vector: VectorCase) throws {
        var f = try Fields(case: vector)
        let bytes = try f.optionalBytes("bytes")
        let propertiesJSON = f.optional("properties")
        let errorName = try f.optionalString("error")
        let encodeErrorName = try f.optionalString("encodeError")
        let canonical = try f.bool("canonical", default: false)
        let lookups = try f.optional("lookup").map { json -> [JSON] in
            guard let a = json.arrayValue else { throw VectorFormatError("\(vector.name).lookup must be an array") }
            return a
        } ?? []
        try f.finish()

        let expected = try propertiesJSON.map { try Vectors.properties($0, "\(vector.name).properties") }

        if let bytes {
            guard (expected != nil) != (errorName != nil) else {
                throw VectorFormatError("\(vector.name): with bytes, give exactly one of properties and error")
            }
            let parsed: Result<Metadata, ZMTPError>
            do throws(ZMTPError) {
                parsed = .success(try Metadata.parse(bytes[...]))
            } catch {
                parsed = .failure(error)
            }
            switch (parsed, expected, errorName) {
            case (.success(let m), let expected?, _):
                if !Vectors.sameProperties(m, expected) { fail("parsed \(Vectors.showProperties(m)), expected \(propertiesJSON!.compact)") }
                for (i, lookup) in lookups.enumerated() {
                    var l = try Fields(lookup, "\(vector.name).lookup[\(i)]")
                    let name = try l.string("name")
                    let value = try l.optionalBytes("value")
                    try l.finish()
                    if m[name] != value {
                        fail("lookup \(name) gave \(m[name].map { Vectors.show($0) } ?? "nil"), expected \(value.map { Vectors.show($0) } ?? "nil")")
                    }
                }
            case (.success(let m), nil, let name?):
                fail("parsed \(Vectors.showProperties(m)), expected error \(name)")
            case (.failure(let error), _, let name?):
                let code = try Vectors.errorCode(name, "\(vector.name).error")
                if error.code != code { fail("error \(error), expected \(name)") }
                if error.blame != .peerMisbehaved { fail("blame \(error.blame), expected peerMisbehaved") }
            case (.failure(let error), _, nil):
                fail("parse failed with \(error), expected \(propertiesJSON?.compact ?? "")")
            case (.success, nil, nil):
                break
            }
        } else if !lookups.isEmpty || errorName != nil {
            throw VectorFormatError("\(vector.name): lookup and error need bytes")
        }

        if canonical || encodeErrorName != nil {
            guard let expected else { throw VectorFormatError("\(vector.name): encoding needs properties") }
            var m = Metadata()
            for p in expected { m.append(name: p.name, value: p.value) }
            var out: [UInt8] = []
            do throws(ZMTPError) {
                try m.encode(into: &out)
                if let encodeErrorName { fail("encoding succeeded (\(Vectors.show(out))), expected \(encodeErrorName)") }
                if canonical, let bytes, out != bytes { fail("encoded \(Vectors.show(out)), expected \(Vectors.show(bytes))") }
                if canonical, m.encodedCount != out.count { fail("encodedCount \(m.encodedCount), wrote \(out.count)") }
            } catch {
                if let encodeErrorName {
                    let code = try Vectors.errorCode(encodeErrorName, "\(vector.name).encodeError")
                    if error.code != code { fail("encoding error \(error), expected \(encodeErrorName)") }
                } else {
                    fail("encoding failed with \(error)")
                }
            }
        }
    }
}
