// Request-reply broker (the zguide's rrbroker): clients' REQs connect to the ROUTER, workers'
// REPs to the DEALER, and the proxy moves messages between them, envelopes and all.
// Usage: rrbroker [FRONTEND] [BACKEND]   (tcp://*:5559, tcp://*:5560); it runs until stopped.
import ZeroMQ

let arguments = CommandLine.arguments
let frontendEndpoint = arguments.count > 1 ? arguments[1] : "tcp://*:5559"
let backendEndpoint = arguments.count > 2 ? arguments[2] : "tcp://*:5560"

let context = try Context()
let frontend = try context.socket(.router)
try frontend.bind(frontendEndpoint)
let backend = try context.socket(.dealer)
try backend.bind(backendEndpoint)

_ = try proxy(frontend: frontend, backend: backend)
