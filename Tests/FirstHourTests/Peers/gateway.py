"""The other processes of Tests/FirstHourTests/HTTPGatewayTests: a pyzmq worker and an HTTP client.

  worker ENDPOINT NAME          ROUTER connected to the gateway: answer each request
                                [id][number][][body] with [id][number][]["NAME: " + body],
                                forever; print WORKING once connected
  client URL REQUESTS THREADS   POST "request <i>" to URL for i in 0..<REQUESTS, from THREADS
                                threads at once; print "REPLY <i> <status> <body>" for each
                                and "DONE" at the end
Every wait is bounded (60 s, generous).
"""
import sys
import threading
import urllib.error
import urllib.request

role, args = sys.argv[1], sys.argv[2:]

if role == "worker":
    import zmq
    endpoint, name = args
    context = zmq.Context()
    socket = context.socket(zmq.ROUTER)
    socket.connect(endpoint)
    print("WORKING", flush=True)
    while True:
        frames = socket.recv_multipart()
        if len(frames) != 4:
            continue
        socket.send_multipart(frames[:3] + [name.encode() + b": " + frames[3]])

elif role == "client":
    url, requests, threads = args[0], int(args[1]), int(args[2])
    lock = threading.Lock()
    next_index = [0]

    def post():
        while True:
            with lock:
                index = next_index[0]
                next_index[0] += 1
            if index >= requests:
                return
            body = f"request {index}".encode()
            try:
                with urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST"), timeout=60) as response:
                    status, reply = response.status, response.read().decode()
            except urllib.error.HTTPError as error:
                status, reply = error.code, ""
            with lock:
                print("REPLY", index, status, reply, flush=True)

    workers = [threading.Thread(target=post) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print("DONE", flush=True)
