"""pyzmq's side of Tests/ExitTests.

  exit_client.py req ENDPOINT   connect a REQ, send "hello", print the reply (or TIMEOUT)
  exit_client.py pull ENDPOINT  bind a PULL, print "ENDPOINT <bound>", print one message (or TIMEOUT)

Generous timeouts: a reply that does not come within 60 s is lost, not late.
"""
import sys
import zmq

role, endpoint = sys.argv[1], sys.argv[2]
context = zmq.Context()
if role == "req":
    socket = context.socket(zmq.REQ)
    socket.linger = 0
    socket.connect(endpoint)
    socket.send(b"hello")
else:
    socket = context.socket(zmq.PULL)
    socket.linger = 0
    socket.bind(endpoint)
    print("ENDPOINT", socket.getsockopt_string(zmq.LAST_ENDPOINT), flush=True)
if socket.poll(60_000, zmq.POLLIN):
    print(socket.recv().decode(), flush=True)
else:
    print("TIMEOUT", flush=True)
socket.close()
context.term()
