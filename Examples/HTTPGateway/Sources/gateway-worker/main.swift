// gateway-worker ENDPOINT [NAME]
//
// A worker for http-gateway: a ROUTER connected to the gateway's DEALER at ENDPOINT. Each
// request arrives as [gateway's routing id][request number][][body]; the reply goes back with
// the same envelope and the body `NAME: <request body>` (NAME defaults to "swift").
import ZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// Prints a line at once, unbuffered (a test reads these lines through a pipe).
func say(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    say("usage: gateway-worker ENDPOINT [NAME]")
    exit(1)
}
let name = arguments.count > 2 ? arguments[2] : "swift"

let context = try Context()
let worker = try context.socket(.router)
try worker.connect(arguments[1])
say("WORKING")
while true {
    let request = try worker.receiveMultipart()
    guard request.count == 4 else { continue }
    try worker.send(Multipart(parts: [request[0], request[1], request[2], Message(Array("\(name): ".utf8) + request[3].bytes)]))
}
