#!/usr/bin/env python3
"""Holds connections open against the web page, for web_limits.sh (loopback only).

idle PORT SRC N: opens N connections from source address SRC, each sending half a request
  line and then nothing; prints "open K" (K accepted and still open after a moment), then
  "closed" once the server has closed every one of them (or keeps them until killed).
post PORT SRCS N SIZE: from each source in SRCS (comma-separated) opens N POST /verify
  connections announcing a multipart body with a SIZE-byte PDF part and sends all of it but
  the last bytes; prints "held", waits for a line on stdin, sends the rest, prints one
  line "codes C1 C2 ..." (000 for a connection the server refused or closed early, 503busy
  for the page that says the server is busy).
"""
import socket
import sys
import time


def connect(port, src):
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(60)
    s.connect(("127.0.0.1", port))
    return s


def alive(s):
    s.setblocking(False)
    try:
        d = s.recv(65536)
        return d != b""  # b"": the server closed it (an answer counts as alive)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        s.setblocking(True)


def idle(port, src, n):
    socks = []
    for _ in range(n):
        try:
            s = connect(port, src)
            s.send(b"GET /login HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
        except OSError:
            pass
    # Connections over a limit are accepted by the kernel and closed by the server at once:
    # poll until the count settles (the same count twice 0.5 s apart, 20 s at most).
    last, deadline = -1, time.time() + 20
    while time.time() < deadline:
        k = sum(1 for s in socks if alive(s))
        if k == last:
            break
        last = k
        time.sleep(0.5)
    socks = [s for s in socks if alive(s)]
    print("open", len(socks), flush=True)
    while any(alive(s) for s in socks):
        time.sleep(0.2)
    print("closed", flush=True)
    sys.stdin.read()


def post(port, srcs, n, size):
    b = "----motcuatestboundary"
    head = ("--%s\r\nContent-Disposition: form-data; name=\"pdf\"; filename=\"x.pdf\"\r\n"
            "Content-Type: application/pdf\r\n\r\n%%PDF-1.4\n" % b).encode()
    tail = ("\r\n--%s--\r\n" % b).encode()
    body_len = len(head) + size + len(tail)
    chunk = b"x" * 65536
    conns = []
    for src in srcs.split(","):
        for _ in range(n):
            s = None
            try:
                s = connect(port, src)
                s.sendall(("POST /verify HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
                           "boundary=%s\r\nContent-Length: %d\r\n\r\n" % (b, body_len)).encode())
                s.sendall(head)
                left = size
                while left > 0:
                    k = min(left, len(chunk))
                    s.sendall(chunk[:k])
                    left -= k
            except OSError:
                pass  # refused early: the answer may still be there to read
            conns.append(s)
    print("held", flush=True)
    sys.stdin.readline()
    codes = []
    for s in conns:
        code = "000"
        if s is not None:
            try:
                s.sendall(tail)
            except OSError:
                pass
            data = b""
            try:
                while True:  # the whole answer: the server closes or the page ends
                    d = s.recv(65536)
                    if not d:
                        break
                    data += d
                    if b"</html>" in data:
                        break
            except OSError:
                pass
            if data.startswith(b"HTTP/1."):
                code = data.split(b" ")[1].decode()
                if "Máy chủ đang bận".encode() in data:
                    code += "busy"
            s.close()
        codes.append(code)
    print("codes", " ".join(codes), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "idle":
        idle(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    else:
        post(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
