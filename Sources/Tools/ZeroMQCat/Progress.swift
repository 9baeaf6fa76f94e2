#if Tools  // zmqcat is built with the package trait "Tools" only (Package.swift)
import ZeroMQ

/// Messages and bytes in one direction, and when the first and last went.
struct Meter {
    private(set) var messages = 0
    private(set) var bytes = 0
    private(set) var first: ContinuousClock.Instant?
    private(set) var last: ContinuousClock.Instant?

    mutating func record(bytes count: Int, at now: ContinuousClock.Instant) {
        messages += 1
        bytes += count
        if first == nil { first = now }
        last = now
    }

    /// Messages per second from the first to `end` (nil before two messages or no time).
    func rate(until end: ContinuousClock.Instant?) -> (messages: Double, bytes: Double)? {
        guard messages > 1, let first, let end else { return nil }
        let elapsed = (end - first).seconds
        guard elapsed > 0 else { return nil }
        return (Double(messages) / elapsed, Double(bytes) / elapsed)
    }

    /// `sent 1000 messages (10.0 kB) in 0.123 s: 8130 msg/s, 81.3 kB/s`.
    func summary(_ verb: String) -> String {
        var text = "\(verb) \(messages) message\(messages == 1 ? "" : "s") (\(formatBytes(Double(bytes))))"
        if let rate = rate(until: last), let first, let last {
            text += " in \(fixed((last - first).seconds, 3)) s: \(fixed(rate.messages, 0)) msg/s, \(formatBytes(rate.bytes))/s"
        }
        return text
    }
}

/// The line on standard error that shows a long run's counts and rates, redrawn in place
/// (carriage return, erase line) at most four times a second, from the second second on.
/// Drawn only for a terminal, and only when it cannot mix with printed messages or typing.
final class ProgressLine {
    private let errors: Writer
    private let enabled: Bool
    private let started: ContinuousClock.Instant
    private var lastDraw: ContinuousClock.Instant?
    private var drawn = false

    static let firstDrawAfter = Duration.seconds(1)
    static let redrawEvery = Duration.milliseconds(250)

    init(errors: Writer, enabled: Bool, started: ContinuousClock.Instant) {
        self.errors = errors
        self.enabled = enabled
        self.started = started
    }

    func update(sent: Meter, received: Meter, now: ContinuousClock.Instant) {
        guard enabled, now - started >= Self.firstDrawAfter else { return }
        if let lastDraw, now - lastDraw < Self.redrawEvery { return }
        lastDraw = now
        var parts: [String] = []
        for (verb, meter) in [("sent", sent), ("received", received)] where meter.messages > 0 {
            var part = "\(verb) \(meter.messages) (\(formatBytes(Double(meter.bytes)))"
            if let rate = meter.rate(until: now) { part += ", \(fixed(rate.messages, 0)) msg/s" }
            parts.append(part + ")")
        }
        if parts.isEmpty { parts = ["waiting"] }
        errors.write("\r\u{1B}[K" + parts.joined(separator: ", "))
        errors.flush()
        drawn = true
    }

    /// Erases the line before anything else is written to standard error.
    func clear() {
        guard drawn else { return }
        errors.write("\r\u{1B}[K")
        errors.flush()
        drawn = false
    }
}

// MARK: Numbers for people (no Foundation)

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}

/// `value` with `decimals` digits after the point.
func fixed(_ value: Double, _ decimals: Int) -> String {
    guard value.isFinite else { return "-" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int64((abs(value) * scale).rounded())
    let divisor = Int64(scale)
    let sign = value < 0 && scaled != 0 ? "-" : ""
    guard decimals > 0 else { return sign + String(scaled) }
    let fraction = String(scaled % divisor)
    return sign + String(scaled / divisor) + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
}

/// Bytes in SI units: `512 B`, `10.0 kB`, `1.5 MB`, `2.0 GB`.
func formatBytes(_ bytes: Double) -> String {
    if bytes < 1000 { return "\(fixed(bytes, 0)) B" }
    var value = bytes
    for unit in ["kB", "MB", "GB"] {
        value /= 1000
        if value < 1000 || unit == "GB" { return "\(fixed(value, 1)) \(unit)" }
    }
    return "\(fixed(value, 1)) GB"
}
#endif  // Tools
