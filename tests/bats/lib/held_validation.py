#!/usr/bin/python3
"""Stands between a CA's HTTP-01 check and the responder: listens at HOST:PORT, reads
each request and holds it, unanswered, until the file RELEASE exists; then passes it
to TARGET_HOST:TARGET_PORT and the reply back. A test thus knows, without racing the
CA, that a validation is under way (STATUS holds how many requests arrived) and when
it may end. STATUS.requests holds each request's first line ("GET PATH HTTP/1.1"), so
that the test can release them once the responder answers PATH. Bounded: at most 16
connections (Pebble checks from 3 perspectives at once), 8 KiB a request, 64 KiB a
reply, and it stops by itself after SECONDS.

A request that arrives once the file CUTOFF exists is held to the end and never
answered: Pebble checks a challenge again when it is POSTed again (as a restarted
client may), and that second check, passed on after the first has made the challenge
valid, finds the token withdrawn and turns the valid authorization invalid.

    held_validation.py HOST PORT TARGET_HOST TARGET_PORT RELEASE STATUS SECONDS [CUTOFF]"""
import os
import socket
import sys
import threading
import time

host, port, target_host, target_port, release, status, seconds = (
    sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6], float(sys.argv[7]))
cutoff = sys.argv[8] if len(sys.argv) > 8 else None
deadline = time.monotonic() + seconds
lock = threading.Lock()
arrived = 0


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 8192:
        chunk = conn.recv(8192 - len(data))
        if not chunk:
            break
        data += chunk
    return data


def reply_complete(reply):
    """The whole reply is in: its head and as much body as its Content-Length says (the
    responder may keep the connection open, so its end is not awaited)."""
    head, sep, body = reply.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def relay(request):
    with socket.create_connection((target_host, target_port), timeout=5) as up:
        up.sendall(request)
        reply = b""
        while len(reply) < 65536 and not reply_complete(reply):
            chunk = up.recv(65536 - len(reply))
            if not chunk:
                break
            reply += chunk
        return reply


def serve(conn):
    global arrived
    with conn:
        conn.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            request = read_request(conn)
            late = cutoff is not None and os.path.exists(cutoff)
            with lock:
                arrived += 1
                with open(status + ".requests", "ab") as f:
                    f.write(request.split(b"\r\n", 1)[0] + b"\n")
                with open(status + ".new", "w") as f:  # renamed: a reader never sees it half-written
                    f.write(f"{arrived}\n")
                os.replace(status + ".new", status)
            while (late or not os.path.exists(release)) and time.monotonic() < deadline:
                time.sleep(0.05)
            if not late and os.path.exists(release):
                conn.sendall(relay(request))
        except OSError:
            pass


listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind((host, port))
listener.listen(16)
listener.settimeout(0.2)
with open(status, "w") as f:
    f.write("0\n")
accepted = 0
while time.monotonic() < deadline and accepted < 16:
    try:
        conn, _ = listener.accept()
    except socket.timeout:
        continue
    accepted += 1
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
while time.monotonic() < deadline and not os.path.exists(release):
    time.sleep(0.05)
time.sleep(1)  # let released relays finish
