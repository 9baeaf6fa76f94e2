"""pyzmq's side of Tests/FirstHourTests: the other half of each zguide program.

Every peer that binds does so on a free loopback port and prints "ENDPOINT <endpoint>" first.
Every wait is bounded (60 s, generous): a message that has not come by then is lost, not late,
and the peer prints TIMEOUT and exits 1.

  keypair                                   print "PUBLIC SECRET" (Z85)
  hwserver REQUESTS                         REP: answer REQUESTS requests with "World"
  hwclient ENDPOINT REQUESTS                REQ: send "Hello" REQUESTS times, print each reply
  wuserver                                  PUB: weather updates for zip codes 10000-10009, forever
  wuclient ENDPOINT ZIPCODE UPDATES         SUB: print "AVERAGE <temperature>" over UPDATES updates
  taskvent SINK TASKS                       PUSH: tell the sink a batch starts, send TASKS workloads
  taskwork TASKS_ENDPOINT SINK              PULL/PUSH: a worker, forever
  tasksink TASKS                            PULL: the start, then TASKS results; print "DONE <n>"
  asyncsrv                                  ROUTER: echo every request to its sender, forever
  asyncclient ENDPOINT CLIENTS REQUESTS     DEALERs: each sends REQUESTS requests, awaits the
                                            replies; print "REPLIES <n>"
  curveserver SERVER_PUBLIC SERVER_SECRET CLIENT_PUBLIC
                                            REP, CURVE, zmq.auth admitting CLIENT_PUBLIC only:
                                            answer one request with "World"
  curveclient ENDPOINT SERVER_PUBLIC CLIENT_PUBLIC CLIENT_SECRET
                                            REQ, CURVE: send "Hello", print the reply
  rrbroker                                  ROUTER/DEALER proxy: print "ENDPOINTS <front> <back>"
  rrworker ENDPOINT                         REP: answer "World", forever
  rrclient ENDPOINT REQUESTS                REQ: REQUESTS requests; print "REPLIES <n>"
"""
import random
import sys
import time

import zmq

TIMEOUT_MS = 60_000
context = zmq.Context()


def bound(kind):
    socket = context.socket(kind)
    socket.bind("tcp://127.0.0.1:*")
    print("ENDPOINT", socket.getsockopt_string(zmq.LAST_ENDPOINT), flush=True)
    return socket


def receive(socket):
    if not socket.poll(TIMEOUT_MS, zmq.POLLIN):
        print("TIMEOUT", flush=True)
        sys.exit(1)
    return socket.recv_multipart()


role, args = sys.argv[1], sys.argv[2:]

if role == "keypair":
    public, secret = zmq.curve_keypair()
    print(public.decode(), secret.decode(), flush=True)

elif role == "hwserver":
    socket = bound(zmq.REP)
    for _ in range(int(args[0])):
        receive(socket)
        socket.send(b"World")

elif role == "hwclient":
    socket = context.socket(zmq.REQ)
    socket.connect(args[0])
    for _ in range(int(args[1])):
        socket.send(b"Hello")
        print(receive(socket)[0].decode(), flush=True)

elif role == "wuserver":
    socket = bound(zmq.PUB)
    while True:
        socket.send_string(f"{random.randrange(10000, 10010)} {random.randrange(-80, 135)} {random.randrange(10, 60)}")

elif role == "wuclient":
    socket = context.socket(zmq.SUB)
    socket.connect(args[0])
    socket.subscribe(args[1] + " ")
    updates = int(args[2])
    total = 0
    for _ in range(updates):
        zipcode, temperature, _humidity = receive(socket)[0].decode().split()
        assert zipcode == args[1], zipcode
        total += int(temperature)
    print("AVERAGE", total // updates, flush=True)

elif role == "taskvent":
    sender = bound(zmq.PUSH)
    sink = context.socket(zmq.PUSH)
    sink.connect(args[0])
    sink.send(b"0")
    for _ in range(int(args[1])):
        sender.send_string(str(random.randint(1, 10)))  # waits for a worker if none is connected

elif role == "taskwork":
    receiver = context.socket(zmq.PULL)
    receiver.connect(args[0])
    sender = context.socket(zmq.PUSH)
    sender.connect(args[1])
    while True:
        workload = receive(receiver)[0]
        time.sleep(int(workload) / 1000)
        sender.send(b"")

elif role == "tasksink":
    receiver = bound(zmq.PULL)
    receive(receiver)  # the start of the batch
    tasks = int(args[0])
    for _ in range(tasks):
        receive(receiver)
    print("DONE", tasks, flush=True)

elif role == "asyncsrv":
    socket = bound(zmq.ROUTER)
    while True:
        socket.send_multipart(receive(socket))

elif role == "asyncclient":
    endpoint, clients, requests = args[0], int(args[1]), int(args[2])
    sockets = []
    for number in range(clients):
        socket = context.socket(zmq.DEALER)
        socket.identity = f"py-client-{number}".encode()
        socket.connect(endpoint)
        sockets.append(socket)
    replies = 0
    for number in range(requests):
        for socket in sockets:
            request = f"request #{number} from {socket.identity.decode()}".encode()
            socket.send(request)
        for socket in sockets:
            reply = receive(socket)
            assert reply == [f"request #{number} from {socket.identity.decode()}".encode()], reply
            replies += 1
    print("REPLIES", replies, flush=True)

elif role == "curveserver":
    from zmq.auth.thread import ThreadAuthenticator
    import os
    import tempfile

    server_public, server_secret, client_public = (arg.encode() for arg in args)
    authenticator = ThreadAuthenticator(context)
    authenticator.start()
    # zmq.auth reads allowed client keys from certificate files.
    directory = tempfile.mkdtemp()
    with open(os.path.join(directory, "client.key"), "w") as file:
        file.write(f'metadata\ncurve\n    public-key = "{client_public.decode()}"\n')
    authenticator.configure_curve(domain="*", location=directory)
    socket = context.socket(zmq.REP)
    socket.curve_server = True
    socket.curve_publickey, socket.curve_secretkey = server_public, server_secret
    socket.bind("tcp://127.0.0.1:*")
    print("ENDPOINT", socket.getsockopt_string(zmq.LAST_ENDPOINT), flush=True)
    receive(socket)
    socket.send(b"World")
    socket.close()  # LINGER forever: delivers the reply before the authenticator stops
    authenticator.stop()

elif role == "curveclient":
    endpoint, server_public, client_public, client_secret = args[0], *(arg.encode() for arg in args[1:])
    socket = context.socket(zmq.REQ)
    socket.curve_serverkey = server_public
    socket.curve_publickey, socket.curve_secretkey = client_public, client_secret
    socket.connect(endpoint)
    socket.send(b"Hello")
    print(receive(socket)[0].decode(), flush=True)

elif role == "rrbroker":
    frontend = context.socket(zmq.ROUTER)
    frontend.bind("tcp://127.0.0.1:*")
    backend = context.socket(zmq.DEALER)
    backend.bind("tcp://127.0.0.1:*")
    print("ENDPOINTS", frontend.getsockopt_string(zmq.LAST_ENDPOINT),
          backend.getsockopt_string(zmq.LAST_ENDPOINT), flush=True)
    zmq.proxy(frontend, backend)

elif role == "rrworker":
    socket = context.socket(zmq.REP)
    socket.connect(args[0])
    while True:
        receive(socket)
        socket.send(b"World")

elif role == "rrclient":
    socket = context.socket(zmq.REQ)
    socket.connect(args[0])
    replies = 0
    for _ in range(int(args[1])):
        socket.send(b"Hello")
        assert receive(socket) == [b"World"]
        replies += 1
    print("REPLIES", replies, flush=True)

else:
    sys.exit(f"unknown role {role}")
