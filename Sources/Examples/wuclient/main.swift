// Weather update client: averages one zipcode's temperature over N updates (SUB, async).
import ZeroMQExamples

let flags = Flags(usage: "wuclient [--endpoint tcp://localhost:5556] [--zipcode 10001] [--updates 100] [--timeout SECONDS]")
await exampleMain("wuclient") { context in
    let updates = flags.int("updates", default: 100)
    print("Collecting updates from the weather server…")
    let report = try await weatherClient(
        context: context,
        endpoint: flags.string("endpoint", default: "tcp://localhost:5556"),
        zipcode: flags.int("zipcode", default: 10001),
        updates: updates,
        timeout: flags.seconds("timeout"))
    guard let average = report.averageTemperature else { return false }
    print("Average temperature for zipcode '\(report.zipcode)' over \(report.updates.count) updates was \(average)F")
    return report.updates.count == updates
}
