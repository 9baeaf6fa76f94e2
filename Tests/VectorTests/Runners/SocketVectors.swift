import ZMTPConformance

/// Kind "socket": what the socket layer adds (envelopes, routing ids, subscriptions, heartbeats,
/// ZAP). These cases have a socket as their target, not a bare connection, so they are played
/// live only (Tests/ConformanceTests, against libzmq and zmqcat). Here each one must read as a
/// live plan: a malformed case fails in this suite too, not only when someone runs it live.
enum SocketVectors {
    static func run(_ vector: VectorCase) throws {
        let file = JSON.object([("kind", .string("socket")), ("cases", .array([vector.json]))])
        let cases = LivePlanner.cases(file: vector.file, json: file)
        guard cases.count == 1, let live = cases.first else {
            fail("\(vector.name): the live planner made \(cases.count) cases of one")
            return
        }
        switch live.content {
        case .invalid(let error): fail("\(vector.name): \(error.message)")
        case .skip(let reason): fail("\(vector.name): a socket case that no live run can play (\(reason))")
        case .live(let plan): if plan.steps.isEmpty { fail("\(vector.name): no live steps") }
        }
    }
}
