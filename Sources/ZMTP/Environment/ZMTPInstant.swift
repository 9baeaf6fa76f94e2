/// A point in time given to the core by its driver, in nanoseconds of a monotonic clock.
///
/// The core never reads a clock. The driver passes `now` into every call whose behaviour depends
/// on time, and asks ``Connection/nextDeadline`` when to call back. Tests use a simulated clock.
public struct ZMTPInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Nanoseconds since an arbitrary origin chosen by the driver.
    public var nanoseconds: UInt64

    /// An instant `nanoseconds` after the driver's origin, read from its monotonic clock.
    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// The origin of a simulated clock.
    public static let zero = ZMTPInstant(nanoseconds: 0)

    /// This instant moved forward by `duration`, truncated to whole nanoseconds.
    ///
    /// Saturates at the largest instant rather than wrapping, and treats a negative duration as
    /// zero: every deadline the core computes lies at or after the instant it starts from, so an
    /// instant never moves backwards. (That is also why there is no `+` operator: it would suggest
    /// ordinary signed arithmetic.)
    public func adding(_ duration: Duration) -> ZMTPInstant {
        guard duration > .zero else { return self }
        let (seconds, attoseconds) = duration.components
        // Both components are non-negative for a positive duration.
        let whole = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if whole.overflow { return ZMTPInstant(nanoseconds: .max) }
        let delta = whole.partialValue.addingReportingOverflow(UInt64(attoseconds / 1_000_000_000))
        if delta.overflow { return ZMTPInstant(nanoseconds: .max) }
        let sum = nanoseconds.addingReportingOverflow(delta.partialValue)
        return ZMTPInstant(nanoseconds: sum.overflow ? .max : sum.partialValue)
    }

    /// This instant moved forward by `milliseconds` (saturating; a negative count is zero).
    @available(*, deprecated, message: "use adding(_:) with a Duration, e.g. adding(.milliseconds(n))")
    public func adding(milliseconds: Int) -> ZMTPInstant {
        adding(.milliseconds(milliseconds))
    }

    public static func < (lhs: ZMTPInstant, rhs: ZMTPInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    public var description: String { "t+\(nanoseconds / 1_000_000)ms" }
}
