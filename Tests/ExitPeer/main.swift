#if canImport(Glibc)
import Glibc
#endif
import ZeroMQ

// exit-peer: a program that sends its last message and simply ends, as a user's main.swift does
// (Tests/ExitTests runs it against pyzmq). Nothing here closes a socket or terminates the context:
// the library's exit handler must deliver what was sent (Context.lingerLimitAtExit).
//
//   exit-peer rep ENDPOINT    bind a REP, print "ENDPOINT <bound>", receive one request, reply
//                             "reply to <request>", end
//   exit-peer push ENDPOINT   connect a PUSH, send "last words", end (whether or not anybody
//                             listens there)

let arguments = CommandLine.arguments
guard arguments.count == 3, ["rep", "push"].contains(arguments[1]) else {
    print("usage: exit-peer rep|push ENDPOINT")
    exit(2)
}
// Top-level variables, as in the REP server: never released, so only the exit handler
// can give their LINGER a chance.
let context = try Context()
let socket = try context.socket(arguments[1] == "rep" ? .rep : .push)
switch arguments[1] {
case "rep":
    try socket.bind(arguments[2])
    print("ENDPOINT \(socket.lastEndpoint)")
    fflush(nil)
    let request = try socket.receiveString()
    try socket.send("reply to \(request)")
default:
    try socket.connect(arguments[2])
    try socket.send("last words")
}
