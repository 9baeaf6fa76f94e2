import Testing

/// Every fault test, one after another: each loads the machine (50 flooding threads, processes
/// sending as fast as they can), and one test's load would distort another's figures.
/// `.serialized` holds for the nested suites too.
@Suite("Faults and hostile load", .serialized)
enum FaultSuite {}
