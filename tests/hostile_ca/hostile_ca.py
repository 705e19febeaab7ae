#!/usr/bin/python3
"""A scriptable hostile ACME server: a test double for the CA misbehaviour Pebble
cannot be made to show. It speaks enough RFC 8555 for sidecert to get a real
certificate in mode `good` (it even checks the HTTP-01 answer on the responder),
and each other --mode is one way a CA can hurt a client. Every request is
appended to --log as "METHOD PATH", so tests count orders at the server.

Not a CA: JWS signatures are not verified. Debian's python3 and
python3-cryptography only (run it with /usr/bin/python3)."""

import argparse
import base64
import datetime
import hashlib
import http.server
import itertools
import json
import ssl
import threading
import time
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

MODES = {
    "good": "a well-behaved CA: the baseline every other mode departs from",
    "wrong-names": "issues the certificate for other names than the CSR's",
    "expired": "issues a certificate that expired yesterday",
    "unlinked-chain": "serves a chain whose intermediate did not sign the leaf",
    "null-authz": 'answers newOrder with "authorizations":[null]',
    "many-authz": "lists 2,000 authorizations for a two-name order",
    "huge-reply": "answers newOrder with 8 MiB of JSON",
    "not-json": "answers newOrder with an HTML page",
    "bad-token": "offers an http-01 token that is not base64url (a path)",
    "retry-after-huge": "keeps the authorization pending with Retry-After: 99999999",
    "retry-after-date": "keeps the authorization pending with a Retry-After date in year 9999",
    "pending-forever": "keeps the authorization pending, no Retry-After",
    "slow-order": "holds the newOrder reply for 10 minutes",
    "many-alternates": "links 1,000 alternate chains to the certificate",
    "ari": "offers renewalInfo: a window years away, Retry-After: 21600",
    "ari-failing": "offers renewalInfo, and answers every request of it with a 500 and Retry-After: 1",
    "rate-limited": "refuses the first newOrder with rateLimited and Retry-After: --retry-after, then is good",
}

ALTERNATES = 1000
LISTED_AUTHZ = 2000


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def thumbprint(jwk):
    members = ("crv", "kty", "x", "y") if jwk.get("kty") == "EC" else ("e", "kty", "n")
    canonical = json.dumps({k: jwk[k] for k in members}, sort_keys=True, separators=(",", ":"))
    return b64u(hashlib.sha256(canonical.encode()).digest())


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


class Authority:
    """A root, the intermediate that signs leaves, and a stranger intermediate
    for the chain that does not link."""

    def __init__(self):
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.root = self._ca_cert("Hostile Root", self.root_key, "Hostile Root", self.root_key)
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.intermediate = self._ca_cert("Hostile Intermediate", self.key, "Hostile Root", self.root_key)
        stranger_key = ec.generate_private_key(ec.SECP256R1())
        self.stranger = self._ca_cert("Hostile Stranger", stranger_key, "Hostile Root", self.root_key)

    @staticmethod
    def _name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def _ca_cert(self, cn, key, issuer_cn, issuer_key):
        now = utcnow()
        return (x509.CertificateBuilder().subject_name(self._name(cn)).issuer_name(self._name(issuer_cn))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(issuer_key, hashes.SHA256()))

    def issue(self, csr_der, mode, lifetime=0):
        csr = x509.load_der_x509_csr(csr_der)
        names = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName)
        if mode == "wrong-names":
            names = ["other.invalid"]
        now = utcnow()
        not_before, not_after = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=90)
        if lifetime:
            not_before = now.replace(microsecond=0)
            not_after = not_before + datetime.timedelta(seconds=lifetime)
        if mode == "expired":
            not_before, not_after = now - datetime.timedelta(days=91), now - datetime.timedelta(days=1)
        leaf = (x509.CertificateBuilder().subject_name(self._name(names[0])).issuer_name(self.intermediate.subject)
                .public_key(csr.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(not_before).not_valid_after(not_after)
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                               critical=False)  # ARI's certificate identifier starts with it
                .sign(self.key, hashes.SHA256()))
        chain = self.stranger if mode == "unlinked-chain" else self.intermediate
        return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in (leaf, chain))


class State:
    def __init__(self, args):
        self.args = args
        self.base = f"https://localhost:{args.port}"
        self.authority = Authority()
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.nonces = itertools.count(1)
        self.jwk = None
        self.orders, self.authzs, self.challenges, self.certs = {}, {}, {}, {}
        self.refused_once = False  # rate-limited

    def next_id(self):
        return str(next(self.ids))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None  # set by main()

    def log_message(self, fmt, *args):
        pass

    def _record(self):
        with self.state.lock, open(self.state.args.log, "a") as log:
            log.write(f"{self.command} {self.path}\n")
            if self.state.args.times_log:  # the same line after the moment it arrived
                with open(self.state.args.times_log, "a") as times:
                    times.write(f"{time.time():.3f} {self.command} {self.path}\n")

    def _send(self, status, body=b"", ctype="application/json", headers=()):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Replay-Nonce", b64u(f"nonce-{next(self.state.nonces)}".encode()))
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _jws(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        jws = json.loads(raw)
        protected = json.loads(b64u_decode(jws["protected"]))
        payload = json.loads(b64u_decode(jws["payload"])) if jws["payload"] else None
        return protected, payload

    def do_HEAD(self):
        self._record()
        self._send(200)

    def do_GET(self):
        self._record()
        s = self.state
        if self.path == "/dir":
            directory = {"newNonce": s.base + "/nonce", "newAccount": s.base + "/account",
                         "newOrder": s.base + "/order", "revokeCert": s.base + "/revoke",
                         "keyChange": s.base + "/key-change"}
            if s.args.mode in ("ari", "ari-failing"):
                directory["renewalInfo"] = s.base + "/renewal-info"
            return self._send(200, directory)
        if self.path == "/nonce":
            return self._send(200)
        if self.path.startswith("/renewal-info/") and s.args.mode == "ari-failing":
            return self._send(500, {"type": "urn:ietf:params:acme:error:serverInternal", "detail": "ARI is down"},
                              headers=[("Retry-After", "1")])
        if self.path.startswith("/renewal-info/"):
            start = utcnow() + datetime.timedelta(days=3000)
            window = {"start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "end": (start + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}
            return self._send(200, {"suggestedWindow": window}, headers=[("Retry-After", "21600")])
        self._send(404, {"type": "urn:ietf:params:acme:error:malformed", "detail": "no such resource"})

    def do_POST(self):
        self._record()
        protected, payload = self._jws()
        path = self.path
        if path == "/account":
            self.state.jwk = protected.get("jwk")
            return self._send(201, {"status": "valid"}, headers=[("Location", self.state.base + "/acct/1")])
        if path == "/order":
            return self._new_order(payload)
        kind, _, ident = path.strip("/").partition("/")
        handlers = {"order": self._order, "authz": self._authz, "chall": self._challenge,
                    "finalize": self._finalize, "cert": self._cert}
        if kind in handlers:
            return handlers[kind](ident, payload)
        self._send(404, {"type": "urn:ietf:params:acme:error:malformed", "detail": "no such resource"})

    def _new_order(self, payload):
        s, mode = self.state, self.state.args.mode
        if mode == "slow-order":
            time.sleep(600)
        if mode == "huge-reply":
            return self._send(201, '{"status":"pending","padding":"' + "x" * (8 << 20) + '"}')
        if mode == "not-json":
            return self._send(201, "<html><body>502 Bad Gateway</body></html>")
        with s.lock:
            refuse, s.refused_once = mode == "rate-limited" and not s.refused_once, s.refused_once or mode == "rate-limited"
        if refuse:
            return self._send(429, {"type": "urn:ietf:params:acme:error:rateLimited",
                                    "detail": "too many new orders recently"},
                              ctype="application/problem+json", headers=[("Retry-After", str(s.args.retry_after))])
        oid = s.next_id()
        authz_urls = []
        for ident in payload["identifiers"]:
            aid = s.next_id()
            cid = s.next_id()
            token = "../../../etc/passwd" if mode == "bad-token" else b64u(cid.encode() * 32)[:43]
            s.challenges[cid] = {"type": "http-01", "url": f"{s.base}/chall/{cid}", "token": token,
                                 "status": "pending", "authz": aid}
            s.authzs[aid] = {"status": "pending", "identifier": ident, "challenges": [cid]}
            authz_urls.append(f"{s.base}/authz/{aid}")
        if mode == "null-authz":
            authz_urls = [None]
        if mode == "many-authz":
            authz_urls = [f"{s.base}/authz/listed-{i}" for i in range(LISTED_AUTHZ)]
        s.orders[oid] = {"status": "pending", "identifiers": payload["identifiers"], "authorizations": authz_urls,
                         "finalize": f"{s.base}/finalize/{oid}",
                         "expires": (utcnow() + datetime.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")}
        self._send(201, s.orders[oid], headers=[("Location", f"{s.base}/order/{oid}")])

    def _order(self, oid, _payload):
        order = self.state.orders.get(oid)
        if order is None:
            return self._send(404, {"type": "urn:ietf:params:acme:error:malformed", "detail": "no such order"})
        self._send(200, order)

    def _authz_view(self, aid):
        authz = self.state.authzs[aid]
        view = dict(authz)
        view["challenges"] = [{k: v for k, v in self.state.challenges[c].items() if k != "authz"}
                              for c in authz["challenges"]]
        return view

    def _authz(self, aid, _payload):
        if aid not in self.state.authzs:
            return self._send(404, {"type": "urn:ietf:params:acme:error:malformed", "detail": "no such authz"})
        mode = self.state.args.mode
        headers = []
        if mode == "retry-after-huge":
            headers = [("Retry-After", "99999999")]
        elif mode == "retry-after-date":
            headers = [("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT")]
        self._send(200, self._authz_view(aid), headers=headers)

    def _challenge(self, cid, _payload):
        s = self.state
        challenge = s.challenges[cid]
        authz = s.authzs[challenge["authz"]]
        challenge["status"] = "processing"
        if s.args.mode not in ("retry-after-huge", "retry-after-date", "pending-forever"):
            ok = self._validate(authz["identifier"]["value"], challenge["token"])
            challenge["status"] = authz["status"] = "valid" if ok else "invalid"
            self._settle_orders()
        self._send(200, {k: v for k, v in challenge.items() if k != "authz"},
                   headers=[("Link", f'<{s.base}/authz/{challenge["authz"]}>;rel="up"')])

    def _validate(self, name, token):
        """Fetches the answer from sidecert's responder, as a CA's validation would."""
        request = urllib.request.Request(f"http://{self.state.args.http01}/.well-known/acme-challenge/{token}",
                                         headers={"Host": name})
        try:
            with urllib.request.urlopen(request, timeout=5) as reply:
                answer = reply.read(4096).decode()
        except OSError:
            return False
        return self.state.jwk is not None and answer == f"{token}.{thumbprint(self.state.jwk)}"

    def _settle_orders(self):
        for order in self.state.orders.values():
            if order["status"] != "pending":
                continue
            ids = [u.rsplit("/", 1)[1] for u in order["authorizations"] if u]
            statuses = {self.state.authzs[a]["status"] for a in ids if a in self.state.authzs}
            if statuses == {"valid"}:
                order["status"] = "ready"
            elif "invalid" in statuses:
                order["status"] = "invalid"

    def _finalize(self, oid, payload):
        s = self.state
        order = s.orders[oid]
        if order["status"] != "ready":
            return self._send(403, {"type": "urn:ietf:params:acme:error:orderNotReady", "detail": order["status"]})
        s.certs[oid] = s.authority.issue(b64u_decode(payload["csr"]), s.args.mode, s.args.lifetime)
        order["status"] = "valid"
        order["certificate"] = f"{s.base}/cert/{oid}"
        self._send(200, order, headers=[("Location", f"{s.base}/order/{oid}")])

    def _cert(self, ident, _payload):
        s = self.state
        oid = ident.split("/")[0]
        headers = []
        if s.args.mode == "many-alternates" and "/" not in ident:
            headers = [("Link", f'<{s.base}/cert/{oid}/alt/{i}>;rel="alternate"') for i in range(ALTERNATES)]
        self._send(200, s.certs[oid], ctype="application/pem-certificate-chain", headers=headers)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="modes: " + "; ".join(f"{k}: {v}" for k, v in MODES.items()))
    parser.add_argument("--mode", choices=sorted(MODES), default="good")
    parser.add_argument("--port", type=int, default=14100)
    parser.add_argument("--tls-cert", required=True)
    parser.add_argument("--tls-key", required=True)
    parser.add_argument("--http01", default="127.0.0.1:5002", help="where sidecert's responder listens")
    parser.add_argument("--log", required=True, help="file to append one line per request to")
    parser.add_argument("--lifetime", type=int, default=0,
                        help="seconds from issuance to expiry (0: 90 days, backdated 5 minutes)")
    parser.add_argument("--retry-after", type=int, default=15, help="rate-limited: the Retry-After, in seconds")
    parser.add_argument("--times-log", default="", help="file to append 'UNIXTIME METHOD PATH' per request to")
    args = parser.parse_args()
    Handler.state = State(args)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.tls_cert, args.tls_key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(f"hostile CA ({args.mode}) on {Handler.state.base}/dir", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
