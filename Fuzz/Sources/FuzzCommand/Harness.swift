import FuzzSupport
import ZMTP

func parseCommand(_ body: ArraySlice<UInt8>) -> Result<Command, ZMTPError> {
    do throws(ZMTPError) { return .success(try Command.parse(body)) } catch { return .failure(error) }
}

func parseMetadata(_ bytes: ArraySlice<UInt8>, code: ZMTPError.Code) -> Result<Metadata, ZMTPError> {
    do throws(ZMTPError) { return .success(try Metadata.parse(bytes, errorCode: code)) } catch { return .failure(error) }
}

func fuzzCommand(_ input: [UInt8]) {
    let padded = [0x05, 0x52, 0x45] + input          // junk in front: the slice starts at index 3
    let body = input[...]
    let offsetBody = padded[3...]

    // Command.parse
    let command = parseCommand(body)
    require(command == parseCommand(offsetBody), "Command.parse differs on an offset slice: \(command) vs \(parseCommand(offsetBody))")
    switch command {
    case .failure(let error):
        requirePeerBlame(error, .peer, "from Command.parse")
        require(error.blame == .peerMisbehaved, "Command.parse blamed \(error.blame)")
        // Only split's and the known commands' own checks may fail.
        let allowed: [ZMTPError.Code] = [.malformedCommandUnspecified, .malformedCommandError, .malformedCommandReady]
        require(allowed.contains(error.code), "Command.parse threw unexpected \(error)")
    case .success(let parsed):
        checkRoundTrip(parsed, input: input)
    }

    // Command.split agrees with parse on well-formedness (except the libzmq ERROR quirk).
    do throws(ZMTPError) {
        let (name, data) = try Command.split(body)
        require(name.count == Int(input[0]) && name.count + data.count + 1 == input.count, "split sizes wrong")
    } catch {
        requirePeerBlame(error, .peer, "from Command.split")
        if case .success(let parsed) = command {
            require(input.starts(with: [0x5E, 0x52, 0x52, 0x4F, 0x52]), "split failed (\(error)) but parse gave \(parsed)")
        }
    }

    // Metadata.parse with two different caller codes.
    for code in [ZMTPError.Code.invalidMetadata, .malformedCommandInitiate] {
        let metadata = parseMetadata(body, code: code)
        require(metadata == parseMetadata(offsetBody, code: code), "Metadata.parse differs on an offset slice")
        switch metadata {
        case .failure(let error):
            requirePeerBlame(error, .peer, "from Metadata.parse")
            require(error.code == code, "Metadata.parse threw \(error), asked for \(code)")
        case .success(let parsed):
            var encoded: [UInt8] = []
            do throws(ZMTPError) {
                try parsed.encode(into: &encoded)
            } catch {
                finding("parsed metadata \(parsed) does not encode: \(error)")
            }
            require(encoded == input, "metadata re-encodes to \(hex(encoded)), not the input")
            require(parsed.encodedCount == input.count, "encodedCount \(parsed.encodedCount) for \(input.count) bytes")
            // Lookups are case-insensitive and find the first property of a name.
            for property in parsed.properties {
                let upper = String(decoding: property.name.utf8.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }, as: UTF8.self)
                require(parsed[upper] != nil, "property \(property.name) not found as \(upper)")
            }
        }
    }
}

/// A parsed command encodes (unless our own encoder refuses what the parser was lenient about)
/// to a body that parses back to the same command.
func checkRoundTrip(_ parsed: Command, input: [UInt8]) {
    let encoded: [UInt8]
    do throws(ZMTPError) {
        encoded = try parsed.encoded()
    } catch {
        // The encoder is stricter than the parser only where the parser is lenient: names and
        // reasons made longer than 255 bytes by replacing invalid UTF-8.
        require(error.blame == .apiMisuse && error.code == .invalidArgument, "encoding parsed \(parsed) threw \(error)")
        switch parsed {
        case .other(let name, _): require(name.utf8.count > 255, "encoder refused \(parsed): \(error)")
        case .error(let reason): require(reason.utf8.count > 255, "encoder refused \(parsed): \(error)")
        default: finding("encoder refused parsed \(parsed): \(error)")
        }
        return
    }
    switch parseCommand(encoded[...]) {
    case .success(let again):
        require(again == parsed, "\(hex(input)) parses to \(parsed), re-encoded \(hex(encoded)) parses to \(again)")
    case .failure(let error):
        finding("re-encoded \(parsed) (\(hex(encoded))) does not parse: \(error)")
    }
}

func commandSeeds() -> [[UInt8]] {
    let metadata = Wire.metadata([("Socket-Type", Array(utf8: "ROUTER")), ("Identity", Array(utf8: "id")), ("X-Empty", [])])
    return [
        Wire.commandBody("READY", metadata),
        Wire.commandBody("READY"),
        Wire.commandBody("ERROR", [3] + Array(utf8: "400")),
        Wire.commandBody("ERROR", [0]),
        [0x5E] + Array(utf8: "RROR") + [3] + Array(utf8: "300"),
        Wire.commandBody("PING", [0x01, 0x2C] + Array(utf8: "context")),
        Wire.commandBody("PING", [0x00]),
        Wire.commandBody("PING", [0x00, 0x01] + Array(repeating: 0x63, count: 20)),
        Wire.commandBody("PONG", Array(utf8: "context")),
        Wire.commandBody("SUBSCRIBE", Array(utf8: "topic")),
        Wire.commandBody("CANCEL", []),
        Wire.commandBody("JOIN", Array(utf8: "group")),
        Wire.commandBody("LEAVE", Array(repeating: 0x67, count: 255)),
        Wire.commandBody("HELLO", [4] + Array(utf8: "user") + [4] + Array(utf8: "pass")),
        Wire.commandBody("INITIATE", metadata),
        Wire.commandBody("MESSAGE", Array(repeating: 0, count: 24)),
        metadata,
        Wire.metadata([("a", Array(repeating: 0x76, count: 300))]),
        [0xFF] + Array(repeating: 0xE9, count: 255),
    ]
}
