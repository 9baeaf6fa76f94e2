#if Tools  // zmqcat is built with the package trait "Tools" only (Package.swift)
import ZeroMQ

/// Where the messages to send come from: the -m values (in turn, repeated when -n asks for
/// more), standard input's lines (one message each, or frames up to an empty line with
/// --multipart), or all of standard input (--input raw). A REP's replies come from here too.
final class OutgoingSource {
    private enum Source {
        /// -m values as messages; `repeating` goes round them for ever.
        case fixed([[[UInt8]]], repeating: Bool)
        /// Standard input, a message per line (or per block of lines with --multipart).
        case lines(LineReader, multipart: Bool)
        /// All of standard input as one frame.
        case raw(LineReader)
        /// Nothing to send.
        case none
    }

    private let source: Source
    private let codec: MessageCodec
    private var index = 0
    /// --multipart: the frames of the message being read.
    private var frames: [[UInt8]] = []
    private var rawTaken = false

    init(arguments: MessageArguments, role: Role, console: Console) throws(ZmqcatFailure) {
        codec = arguments.codec
        var fixed: [[[UInt8]]] = []
        if arguments.multipart && !arguments.messages.isEmpty {
            var frames: [[UInt8]] = []
            for value in arguments.messages { frames += try codec.frames(Array(value.utf8)[...]) }
            fixed = [frames]
        } else {
            for value in arguments.messages { fixed.append(try codec.frames(Array(value.utf8)[...])) }
        }
        switch role {
        case .receive, .echo:
            source = .none
        case .reply:
            // Replies go round the -m values; without any, each request is echoed.
            source = .fixed(fixed, repeating: true)
        case .send, .request, .both:
            if !fixed.isEmpty {
                // -n repeats the -m values for senders and REQ; dealers and the like send them once.
                source = .fixed(fixed, repeating: arguments.count != nil && role != .both)
            } else if arguments.input == .raw {
                source = .raw(LineReader(console.input))
            } else {
                source = .lines(LineReader(console.input), multipart: arguments.multipart)
            }
        }
    }

    /// The reader of standard input, when messages come from it.
    var reader: LineReader? {
        switch source {
        case .lines(let reader, _), .raw(let reader): return reader
        case .fixed, .none: return nil
        }
    }

    /// Whether the messages are the -m values, sent once each (not repeated to make -n).
    var sendsEachValueOnce: Bool {
        switch source {
        case .fixed(let messages, let repeating): return !messages.isEmpty && !repeating
        case .lines, .raw, .none: return false
        }
    }

    /// Whether messages come from standard input.
    var readsInput: Bool { reader != nil }

    /// Whether standard input has ended (or is not read).
    var atEndOfInput: Bool { reader?.atEnd ?? true }

    /// Whether no message will ever come again.
    var isExhausted: Bool {
        switch source {
        case .fixed(let messages, let repeating): return messages.isEmpty || (!repeating && index >= messages.count)
        case .lines(let reader, _): return reader.isExhausted && frames.isEmpty
        case .raw: return rawTaken
        case .none: return true
        }
    }

    /// The next message if one is ready (nil: wait for more input, or none is left).
    /// - Throws: ``ZmqcatFailure`` for input that does not decode (bad hex).
    func next() throws(ZmqcatFailure) -> [[UInt8]]? {
        switch source {
        case .fixed(let messages, let repeating):
            guard !messages.isEmpty, repeating || index < messages.count else { return nil }
            defer { index += 1 }
            return messages[index % messages.count]
        case .lines(let reader, let multipart):
            while let line = reader.nextLine() {
                guard multipart else { return try codec.frames(line) }
                if line.isEmpty {
                    if frames.isEmpty { continue }  // blank lines between messages
                    defer { frames = [] }
                    return frames
                }
                frames += try codec.frames(line)
            }
            if multipart && reader.isExhausted && !frames.isEmpty {
                defer { frames = [] }
                return frames
            }
            return nil
        case .raw(let reader):
            guard reader.atEnd, !rawTaken else { return nil }
            rawTaken = true
            return [reader.takeRest()]
        case .none:
            return nil
        }
    }

    /// A REP's reply to `request`: the next -m, or the request itself.
    func reply(to request: Multipart) -> [[UInt8]] {
        guard case .fixed(let replies, _) = source, !replies.isEmpty else { return request.parts.map(\.bytes) }
        defer { index += 1 }
        return replies[index % replies.count]
    }
}
#endif  // Tools
