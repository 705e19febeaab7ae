#!/usr/bin/python3
"""Real receivers for sidecert's alerts, for the Bats suites.

  sinks.py smtp DIR PORT [--tls none|starttls|tls] [--cert PEM --key PEM]
                         [--auth USER:PASSWORD] [--delay SECONDS] [--refuse]
  sinks.py webhook DIR PORT [--status CODE] [--delay SECONDS]

An SMTP server (aiosmtpd, Debian's python3-aiosmtpd) or an HTTP server on
127.0.0.1:PORT; each message it takes is written to DIR as N.eml (or N.json and
N.headers), and DIR/ready appears once it listens. --refuse answers every
message with 451; --status answers every POST with that code. --delay holds
each message that long before answering. Runs until SIGTERM.
"""
import argparse
import asyncio
import http.server
import json
import os
import signal
import ssl
import sys
import threading
import time


def write_next(directory, suffix, data):
    n = len([f for f in os.listdir(directory) if f.endswith(suffix)]) + 1
    tmp = os.path.join(directory, f".{n}{suffix}")
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, os.path.join(directory, f"{n}{suffix}"))


def mark_ready(directory):
    open(os.path.join(directory, "ready"), "w").close()


def smtp(args):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            open(os.path.join(args.dir, "receiving"), "w").close()
            if args.delay:
                await asyncio.sleep(args.delay)
            if args.refuse:
                return "451 4.3.0 try again later"
            head = f"X-Envelope-From: {envelope.mail_from}\r\nX-Envelope-To: {','.join(envelope.rcpt_tos)}\r\n"
            tls = session.ssl or server.transport.get_extra_info("sslcontext") is not None
            head += f"X-Session-TLS: {'yes' if tls else 'no'}\r\n"
            head += f"X-Session-Auth: {'yes' if session.authenticated else 'no'}\r\n"
            write_next(args.dir, ".eml", head.encode() + envelope.original_content)
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        user, password = args.auth.split(":", 1)
        ok = auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False)

    context = None
    if args.tls != "none":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
    params = {}
    if args.tls == "starttls":
        params.update(tls_context=context, require_starttls=True)
    if args.auth:
        params.update(authenticator=authenticator, auth_required=True, auth_require_tls=args.tls != "none")
    controller = Controller(Handler(), hostname="127.0.0.1", port=args.port,
                            ssl_context=context if args.tls == "tls" else None,
                            server_hostname="localhost", **params)
    controller.start()
    mark_ready(args.dir)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


def webhook(args):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if args.delay:
                time.sleep(args.delay)
            if 200 <= args.status < 300:
                name = ".json"
                write_next(args.dir, ".headers", str(self.headers).encode())
                write_next(args.dir, name, body)
            self.send_response(args.status)
            self.send_header("Content-Length", "3")
            self.end_headers()
            self.wfile.write(b"ok\n")

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    mark_ready(args.dir)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    server.shutdown()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["smtp", "webhook"])
    p.add_argument("dir")
    p.add_argument("port", type=int)
    p.add_argument("--tls", default="none", choices=["none", "starttls", "tls"])
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--auth")
    p.add_argument("--delay", type=float, default=0)
    p.add_argument("--refuse", action="store_true")
    p.add_argument("--status", type=int, default=200)
    args = p.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    (smtp if args.kind == "smtp" else webhook)(args)


if __name__ == "__main__":
    sys.exit(main())
