#!/usr/bin/env python3
"""A scriptable Docker Engine API on a unix socket, for what a real engine will not do.

    fake_engine.py SOCKET STATE_FILE REQUEST_LOG

Every request reads STATE_FILE (JSON) anew, so a test changes the engine by
rewriting it (atomically: write elsewhere, then rename):

    {"containers": [{"Id": "...", "Name": "web-1", "Labels": {...}, "Env": ["K=V"],
                     "Running": true, "StartedAt": "2026-12-06T10:00:00Z"}],
     "services":   [{"ID": "...", "Name": "api", "Labels": {...}, "Env": [...],
                     "UpdatedAt": "..."}],
     "list":   "ok" | "garbage" | "error",          # GET /containers/json, /services
     "events": "ok" | "stall" | "close" | "garbage"}  # GET /events

events "ok" sends one event line whenever STATE_FILE changes; "stall" answers
200 and never sends a byte; "close" closes each stream after a second;
"garbage" sends a line that is not JSON, then events as "ok". Each request is
appended to REQUEST_LOG as "<unix time> <method> <path>".
"""
import json
import os
import socketserver
import sys
import time
from http.server import BaseHTTPRequestHandler

SOCKET, STATE, LOG = sys.argv[1], sys.argv[2], sys.argv[3]


_cache = {"mtime": None, "state": {}}


def state():
    """STATE_FILE as last written: parsed again only when it changed."""
    try:
        mtime = os.stat(STATE).st_mtime_ns
        if mtime != _cache["mtime"]:
            with open(STATE) as f:
                _cache["state"], _cache["mtime"] = json.load(f), mtime
        return _cache["state"]
    except (OSError, ValueError):
        return {}


def container_summary(c):
    return {"Id": c["Id"], "Names": ["/" + c.get("Name", c["Id"][:12])], "Labels": c.get("Labels", {}),
            "State": "running" if c.get("Running", True) else "exited"}


def container_inspect(c):
    return {"Id": c["Id"], "Name": "/" + c.get("Name", ""), "Config": {"Env": c.get("Env", []), "Labels": c.get("Labels", {})},
            "State": {"Running": c.get("Running", True), "StartedAt": c.get("StartedAt", "2026-01-01T00:00:00Z")}}


def service(s):
    return {"ID": s["ID"], "UpdatedAt": s.get("UpdatedAt", "2026-01-01T00:00:00Z"),
            "Spec": {"Name": s.get("Name", s["ID"][:12]), "Labels": s.get("Labels", {}),
                     "TaskTemplate": {"ContainerSpec": {"Env": s.get("Env", []), "Labels": s.get("ContainerLabels", {})}}}}


class Handler(BaseHTTPRequestHandler):
    def address_string(self):
        return "unix"

    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        with open(LOG, "a") as log:
            log.write(f"{time.time():.3f} GET {self.path}\n")
        path = self.path.split("?")[0]
        if path.startswith("/v1."):
            path = path[path.index("/", 1):]
        s = state()
        if path == "/events":
            return self.events(s)
        if s.get("list") == "garbage" and path in ("/containers/json", "/services"):
            return self.reply(200, b'[{"Id": "abc", "Labels": {"sidecert.domains": ')
        if s.get("list") == "error" and path in ("/containers/json", "/services"):
            return self.reply(500, {"message": "the engine is having a bad day"})
        if path == "/containers/json":
            return self.reply(200, [container_summary(c) for c in s.get("containers", []) if c.get("Running", True)])
        if path == "/services":
            return self.reply(200, [service(x) for x in s.get("services", [])])
        if path.startswith("/containers/") and path.endswith("/json"):
            cid = path[len("/containers/"):-len("/json")]
            for c in s.get("containers", []):
                if c["Id"] == cid:
                    return self.reply(200, container_inspect(c))
            return self.reply(404, {"message": "No such container: " + cid})
        return self.reply(404, {"message": "page not found"})

    def events(self, s):
        mode = s.get("events", "ok")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.flush()
        try:
            if mode == "stall":
                time.sleep(3600)
                return
            if mode == "garbage":
                self.wfile.write(b"this is not an event\n")
                self.wfile.flush()
            seen = os.stat(STATE).st_mtime_ns if os.path.exists(STATE) else 0
            began = time.time()
            while time.time() - began < 3600:
                if mode == "close" and time.time() - began >= 1:
                    return
                time.sleep(0.05)
                now = os.stat(STATE).st_mtime_ns if os.path.exists(STATE) else 0
                if now != seen:
                    seen = now
                    line = {"Type": "container", "Action": "start", "Actor": {"ID": "x"}, "time": int(time.time())}
                    self.wfile.write((json.dumps(line) + "\n").encode())
                    self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


if os.path.exists(SOCKET):
    os.unlink(SOCKET)
with Server(SOCKET, Handler) as server:
    server.serve_forever()
