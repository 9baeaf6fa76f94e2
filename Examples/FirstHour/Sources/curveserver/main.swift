// CURVE with an authenticator (the zguide's Ironhouse, as a REP server): the server admits one
// client key, checked by the Authenticator (a ZAP handler), and answers one request.
// Usage: curveserver ENDPOINT SERVER_SECRET_KEY CLIENT_PUBLIC_KEY   (keys in Z85)
import Foundation   // exit
import ZeroMQ

let arguments = CommandLine.arguments
guard arguments.count == 4 else {
    print("usage: curveserver ENDPOINT SERVER_SECRET_KEY CLIENT_PUBLIC_KEY")
    exit(2)
}
let serverSecret = try CurveKey(z85: arguments[2])
let clientPublic = try CurveKey(z85: arguments[3])

let context = try Context()
let authenticator = try Authenticator(context: context)   // answers ZAP requests on its own thread
authenticator.allowCurve(clientKeys: [clientPublic])

let server = try context.socket(.rep)
let certificate = try CurveCertificate(secretKey: serverSecret.bytes)
server.options.security = try certificate.serverSecurity()
try server.bind(arguments[1])

let request = try server.receiveMultipart()
print("Received \(request.parts[0].string) from \(request.property("User-Id") ?? "?")")
try server.send("World")
