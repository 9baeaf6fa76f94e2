import ZeroMQ

// Weather updates (the zguide's PUB/SUB example): a PUB server publishes random
// "zipcode temperature relhumidity" updates; a SUB client subscribes to one zipcode and
// averages the temperatures it receives. The filtering happens at the publisher: a subscriber
// only ever gets the updates it asked for.

/// One weather update, as text: `"10001 23 45"` (zipcode, °F, % relative humidity).
public struct WeatherUpdate: Sendable, Hashable, CustomStringConvertible {
    public var zipcode: Int
    public var temperature: Int
    public var relativeHumidity: Int

    public init(zipcode: Int, temperature: Int, relativeHumidity: Int) {
        self.zipcode = zipcode
        self.temperature = temperature
        self.relativeHumidity = relativeHumidity
    }

    /// Parses `"zipcode temperature relhumidity"`.
    public init?(_ text: String) {
        let fields = text.split(separator: " ")
        guard fields.count == 3, let zipcode = Int(fields[0]), let temperature = Int(fields[1]),
              let relativeHumidity = Int(fields[2]) else { return nil }
        self.init(zipcode: zipcode, temperature: temperature, relativeHumidity: relativeHumidity)
    }

    /// A random update for one of `zipcodes`.
    public static func random(zipcodes: Range<Int>) -> WeatherUpdate {
        WeatherUpdate(zipcode: .random(in: zipcodes), temperature: .random(in: -80..<135),
                      relativeHumidity: .random(in: 10..<60))
    }

    /// The topic (prefix) that selects one zipcode's updates: `"10001 "`. The trailing space
    /// keeps `"10001"` from matching `"100012"`.
    public static func topic(zipcode: Int) -> String {
        let digits = String(zipcode)
        return String(repeating: "0", count: max(0, 5 - digits.count)) + digits + " "
    }

    public var description: String {
        Self.topic(zipcode: zipcode) + "\(temperature) \(relativeHumidity)"
    }
}

/// The weather server: binds a PUB socket at `endpoint` and publishes random updates for
/// `zipcodes` as fast as it can.
///
/// - Parameters:
///   - zipcodes: the zipcodes to report on (the zguide uses 0..<100000; fewer make a client's
///     zipcode come up more often).
///   - updates: stop after publishing this many (nil: no limit).
///   - duration: stop after this long (nil: no limit).
///   - ready: called once bound, with the endpoint to connect to (``Socket/lastEndpoint``: a
///     `*` port resolved).
/// - Returns: the number of updates published. Stops without error when the context shuts down.
public func weatherServer(
    context: Context,
    endpoint: String = "tcp://*:5556",
    zipcodes: Range<Int> = 10000..<10100,
    updates: Int? = nil,
    duration: Duration? = nil,
    ready: (_ endpoint: String) -> Void = { _ in }
) throws(ZeroMQError) -> Int {
    let publisher = try context.socket(.pub)
    try publisher.bind(endpoint)
    ready(publisher.lastEndpoint)

    let clock = ContinuousClock()
    let deadline = duration.map { clock.now + $0 }
    var published = 0
    do throws(ZeroMQError) {
        while published < updates ?? .max, deadline.map({ clock.now < $0 }) ?? true {
            // PUB never blocks: with no subscriber for this zipcode, the update is dropped.
            try publisher.send(WeatherUpdate.random(zipcodes: zipcodes).description)
            published += 1
        }
    } catch where error.code == .terminated {
        // The context is shutting down: the server is done.
    }
    return published
}

/// What a weather client learned about one zipcode.
public struct WeatherReport: Sendable {
    public var zipcode: Int
    /// The updates received, all for ``zipcode``.
    public var updates: [WeatherUpdate]

    /// The average temperature over ``updates`` (nil when there are none).
    public var averageTemperature: Double? {
        guard !updates.isEmpty else { return nil }
        return Double(updates.reduce(0) { $0 + $1.temperature }) / Double(updates.count)
    }
}

/// The weather client: subscribes to `zipcode`'s updates at `endpoint` and collects `updates`
/// of them, iterating over the socket's messages with `for try await`.
///
/// - Parameter timeout: give up (throwing ``ZeroMQError/Code/timedOut``) when no update comes
///   for this long (nil: wait forever).
public func weatherClient(
    context: Context,
    endpoint: String = "tcp://localhost:5556",
    zipcode: Int = 10001,
    updates: Int = 100,
    timeout: Duration? = nil
) async throws -> WeatherReport {
    let subscriber = try context.socket(.sub)
    subscriber.options.receiveTimeout = timeout
    try subscriber.connect(endpoint)
    try subscriber.subscribe(WeatherUpdate.topic(zipcode: zipcode))

    var report = WeatherReport(zipcode: zipcode, updates: [])
    guard updates > 0 else { return report }
    for try await message in subscriber.messages {
        guard let update = WeatherUpdate(message.parts[0].string) else { continue }
        report.updates.append(update)
        if report.updates.count == updates { break }
    }
    return report
}
