// CURVE client (the zguide's Ironhouse, as a REQ client): knows the server's public key, has a
// key pair of its own, sends one request and prints the reply.
// Usage: curveclient ENDPOINT SERVER_PUBLIC_KEY CLIENT_SECRET_KEY   (keys in Z85)
import Foundation   // exit
import ZeroMQ

let arguments = CommandLine.arguments
guard arguments.count == 4 else {
    print("usage: curveclient ENDPOINT SERVER_PUBLIC_KEY CLIENT_SECRET_KEY")
    exit(2)
}
let server = try CurveCertificate(publicKey: CurveKey(z85: arguments[2]).bytes)
let certificate = try CurveCertificate(secretKey: CurveKey(z85: arguments[3]).bytes)

let context = try Context()
let client = try context.socket(.req)
client.options.security = try certificate.clientSecurity(server: server)
try client.connect(arguments[1])
try client.send("Hello")
print("Received \(try client.receiveString())")
