# A TCP listener on 127.0.0.1 whose accept queue is full (backlog 0, filled by connections it never
# accepts), so that a further connect is never answered: SYNs are dropped and the connect stays
# pending. Prints its port, then holds everything until stdin closes. Used by libscope's
# destination tests and by bench/ (slowdest).
import socket
import sys

listener = socket.socket()
listener.bind(('127.0.0.1', 0))
listener.listen(0)
held = []
for _ in range(3):
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(listener.getsockname())
    except BlockingIOError:
        pass
    held.append(c)
print(listener.getsockname()[1], flush=True)
sys.stdin.read()
