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

    /// This instant moved forward by `milliseconds` (saturating).
    public func adding(milliseconds: Int) -> ZMTPInstant {
        let delta = UInt64(max(0, milliseconds)).multipliedReportingOverflow(by: 1_000_000)
        if delta.overflow { return ZMTPInstant(nanoseconds: .max) }
        let sum = nanoseconds.addingReportingOverflow(delta.partialValue)
        return ZMTPInstant(nanoseconds: sum.overflow ? .max : sum.partialValue)
    }

    public static func < (lhs: ZMTPInstant, rhs: ZMTPInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    public var description: String { "t+\(nanoseconds / 1_000_000)ms" }
}
