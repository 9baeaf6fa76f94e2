// Weather update server: publishes random "zipcode temperature relhumidity" updates (PUB).
import ZeroMQExamples

let flags = Flags(usage: "wuserver [--endpoint tcp://*:5556] [--updates N] [--seconds SECONDS] [--zipcodes 100]")
exampleMain("wuserver") { context in
    let published = try weatherServer(
        context: context,
        endpoint: flags.string("endpoint", default: "tcp://*:5556"),
        zipcodes: 10000..<(10000 + flags.int("zipcodes", default: 100)),
        updates: flags.int("updates"),
        duration: flags.seconds("seconds"),
        ready: { print("Publishing on \($0)") })
    print("Published \(published) update(s)")
    return true
}
