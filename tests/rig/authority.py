#!/usr/bin/python3
"""The test authority: a FIT-Connect Submission API v1 (token, destination, key,
submissions, attachments, events as signed SETs) and a plain HTTPS application endpoint,
over TLS on 127.0.0.1, with faults switched on and off at run time. It decrypts what it
receives with the destination's key and keeps it under STATE/received/ for the tests.

    /usr/bin/python3 authority.py --dir STATE [--pki PKI] [--port 0] [--fault NAME]...

The PKI comes from make-pki (see README). Python standard library plus python3-jwcrypto."""

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import select
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import uuid
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from jwcrypto import jwe as jwe_module
from jwcrypto import jwk, jws
from jwcrypto.common import JWException

from rigserver import exit_with, write_port

# jwcrypto refuses DEFLATE'd plaintexts above 256 KiB (a decompression-bomb guard); the
# delivery service allows attachments of 500 MB, and this rig takes at most MAX_BODY.
jwe_module.default_max_compressed_size = 1 << 30

EVENTS = "https://schema.fitko.de/fit-connect/events/"
PROBLEMS = "https://schema.fitko.de/fit-connect/events/problems/"
METADATA_VERSIONS = ["1.2.0"]
METADATA_SCHEMA = "https://schema.fitko.de/fit-connect/metadata/%s/metadata.schema.json"
SCHEMA_URI = "urn:bb:test:schema"
CLIENT_ID = "bb-test"
TOKEN_LIFETIME = 300
MAX_BODY = 64 << 20
MAX_ATTACHMENTS = 100
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
LEIKA_RE = re.compile(r"^urn:de:fim:leika:leistung:[0-9]{14}$")
B64URL_RE = re.compile(r"^[A-Za-z0-9_-]*$")
HEX512_RE = re.compile(r"^[0-9a-f]{128}$")
MIME_RE = re.compile(r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+$")
FALLBACK_LEIKA = ["99115005104000", "99115005070000", "99115003012000"]

# Each fault names the kind of request it applies to; "any" is every request but /_control/.
FAULTS = {
    "500": "any", "503": "any", "429": "any", "hang": "any",
    "drop": "attachment",
    "key-no-wrapkey": "key", "key-2048": "key", "key-broken-chain": "key",
    "set-bad-signature": "events", "verdict-by-service": "events", "tags-wrong": "events",
    "sigkey-no-verify": "key", "sigkey-broken-chain": "key",
    "sigkey-2048": "any",     # served by the key endpoint and signing the verdicts
    "token-401": "token", "token-ttl-max": "token",
    "reject": "submit", "reject-hostile": "submit", "422-submit": "submit",
}
# A reject reason no operator's terminal should get verbatim: escape sequences, C1
# controls, a line break, and far too long.
HOSTILE_REASON = ("\x1b]0;owned\x07\x1b[2J\x1b[31mREJECTED\x1b[0m \u009b31m line\nbreak " +
                  "Ü" * 3000)
START_ONLY_FAULTS = {"tls-unknown-ca", "client-cert"}
METADATA_KEYS = {"$schema", "contentStructure", "publicServiceType", "authenticationInformation",
                 "paymentInformation", "replyChannel", "additionalReferenceInfo"}
ATTACHMENT_KEYS = {"attachmentId", "hash", "purpose", "mimeType", "filename", "description"}


def uuid_ok(s):
    return isinstance(s, str) and UUID_RE.match(s) is not None


def read_pem_certs(path):
    """The DER certificates of a PEM file, base64 (not url) as x5c wants them."""
    with open(path) as f:
        text = f.read()
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", text, re.S)
    return [base64.b64encode(ssl.PEM_cert_to_DER_cert(b)).decode() for b in blocks]


def load_key(path):
    with open(path, "rb") as f:
        return jwk.JWK.from_pem(f.read())


def leika_keys(top):
    """The LeiKa identifiers of the repository's services (scripts/services/*/form.yaml)."""
    found = set()
    services = os.path.join(top, "scripts", "services")
    try:
        names = os.listdir(services)
    except OSError:
        names = []
    for name in names:
        try:
            with open(os.path.join(services, name, "form.yaml")) as f:
                for m in re.finditer(r"^leika:\s*['\"]?([^'\"\s#]+)", f.read(), re.M):
                    found.add(m.group(1))
        except OSError:
            pass
    return sorted(found) or ["urn:de:fim:leika:leistung:" + k for k in FALLBACK_LEIKA]


class Pki:
    """The keys and certificates from make-pki, and the JWKs built from them."""

    def __init__(self, d):
        p = lambda name: os.path.join(d, name)
        with open(p("destination")) as f:
            self.destination = f.read().strip()
        with open(p("client_secret")) as f:
            self.client_secret = f.readline().strip()
        with open(p("bearer")) as f:
            self.bearer = f.readline().strip()
        self.enc = load_key(p("enc.key"))
        self.enc_kid = self.enc.thumbprint()
        chain = read_pem_certs(p("vpki-intermediate.pem")) + read_pem_certs(p("vpki-root.pem"))
        self.enc_jwk = self.encryption_jwk(self.enc, read_pem_certs(p("enc.pem")) + chain)
        self.jwk_faults = {
            "key-no-wrapkey": dict(self.enc_jwk, key_ops=["encrypt"]),
            "key-2048": self.encryption_jwk(load_key(p("enc-2048.key")),
                                            read_pem_certs(p("enc-2048.pem")) + chain),
            "key-broken-chain": self.encryption_jwk(self.enc,
                                                    read_pem_certs(p("enc-broken.pem")) + chain),
        }
        # The destination's signature key: accept- and reject-submission are the authority's
        # (iss = the destination id), signed with it, served next to the encryption key.
        self.key_2048 = load_key(p("enc-2048.key"))
        self.dest_sig = load_key(p("sig-dest.key"))
        self.dest_sig_kid = self.dest_sig.thumbprint()
        self.dest_sig_jwk = self.signature_jwk(self.dest_sig, read_pem_certs(p("sig-dest.pem")) +
                                               chain)
        self.jwk_faults.update({
            "sigkey-no-verify": dict(self.dest_sig_jwk, key_ops=["sign"]),
            "sigkey-broken-chain": self.signature_jwk(
                self.dest_sig, read_pem_certs(p("sig-dest-broken.pem")) + chain),
            # enc-2048.key is certified too: only its size is wrong.
            "sigkey-2048": self.signature_jwk(self.key_2048,
                                              read_pem_certs(p("enc-2048.pem")) + chain),
        })
        self.sig = load_key(p("sig.key"))
        self.sig_kid = self.sig.thumbprint()
        self.sig_other = load_key(p("sig-other.key"))
        pub = self.sig.export_public(as_dict=True)
        self.jwks = {"keys": [{"kty": "RSA", "kid": self.sig_kid, "alg": "PS512", "use": "sig",
                               "e": pub["e"], "n": pub["n"]}]}
        self.tls = (p("tls-server.pem"), p("tls-server.key"))
        self.tls_other = (p("tls-other-server.pem"), p("tls-other-server.key"))

    def encryption_jwk(self, key, x5c):
        pub = key.export_public(as_dict=True)
        # The served kid is the destination's one whatever the fault, as a rotated or
        # tampered key would look.
        return {"kty": "RSA", "kid": self.enc_kid, "alg": "RSA-OAEP-256", "key_ops": ["wrapKey"],
                "x5c": x5c, "e": pub["e"], "n": pub["n"]}

    def signature_jwk(self, key, x5c):
        pub = key.export_public(as_dict=True)
        return {"kty": "RSA", "kid": self.dest_sig_kid, "alg": "PS512", "key_ops": ["verify"],
                "x5c": x5c, "e": pub["e"], "n": pub["n"]}


class Authority:
    """Everything the server knows; one lock guards it."""

    def __init__(self, state_dir, pki, faults, services):
        self.dir = state_dir
        self.pki = pki
        self.services = services
        self.lock = threading.RLock()
        self.faults = faults            # [(name, once)]
        self.tokens = {}                # token -> expiry
        self.tokens_issued = 0
        self.connections = 0            # TLS connections accepted (keep-alive shows here)
        self.submissions = {}           # sid -> dict
        self.cases = {}                 # caseId -> sid
        self.applications = {}          # case id -> dict
        self.requests = []
        self.url = None
        self.log_file = open(os.path.join(state_dir, "authority.log"), "a", buffering=1)

    def log(self, msg):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        with self.lock:
            self.log_file.write("%s %s\n" % (stamp, msg))

    def take_fault(self, kind):
        """The fault that applies to a request of this kind; a once: fault is used up.
        NAME@KIND limits a fault to one kind of request (503@submit: only the submit PUT),
        so a test can fail any one step of the flow."""
        with self.lock:
            for i, (name, once) in enumerate(self.faults):
                base, _, only = name.partition("@")
                if only and only != kind:
                    continue
                if FAULTS.get(base) in ("any", kind):
                    if once:
                        del self.faults[i]
                    return base
        return None

    def issue_token(self):
        token = secrets.token_urlsafe(32)
        with self.lock:
            now = time.time()
            self.tokens = {t: e for t, e in self.tokens.items() if e > now}
            self.tokens[token] = now + TOKEN_LIFETIME
            self.tokens_issued += 1
        return token

    def token_valid(self, token):
        with self.lock:
            return self.tokens.get(token, 0) > time.time()

    def add_event(self, sub, name, payload):
        sub["events"].append({"jti": str(uuid.uuid4()), "iat": int(time.time()),
                              "name": name, "payload": payload})

    def signed_events(self, sub, fault):
        """The event log as SETs. accept- and reject-submission are the authority's (iss the
        destination id, its signature key), the others the delivery service's (iss its URL,
        sig.key). Faults: set-bad-signature signs with sig-other.key under the right kid;
        verdict-by-service issues the verdict as the delivery service; sigkey-2048 signs it
        with the 2048-bit key the key endpoint then serves; tags-wrong changes the data tag
        in accept-submission."""
        out = []
        for ev in sub["events"]:
            payload = ev["payload"]
            verdict = ev["name"] in ("accept-submission", "reject-submission")
            if verdict and fault != "verdict-by-service":
                iss, key, kid = self.pki.destination, self.pki.dest_sig, self.pki.dest_sig_kid
                if fault == "sigkey-2048":
                    key = self.pki.key_2048
            else:
                iss, key, kid = self.url, self.pki.sig, self.pki.sig_kid
            if fault == "set-bad-signature":
                key = self.pki.sig_other
            if fault == "tags-wrong" and ev["name"] == "accept-submission":
                payload = json.loads(json.dumps(payload))
                tags = payload["authenticationTags"]
                tags["data"] = ("A" if tags.get("data", "")[:1] != "A" else "B") + \
                    tags.get("data", "")[1:]
            claims = {"jti": ev["jti"], "iss": iss, "iat": ev["iat"],
                      "sub": "submission:" + sub["submissionId"], "txn": "case:" + sub["caseId"],
                      "events": {EVENTS + ev["name"]: payload}}
            token = jws.JWS(json.dumps(claims).encode())
            token.add_signature(key, alg="PS512", protected=json.dumps(
                {"typ": "secevent+jwt", "alg": "PS512", "kid": kid}))
            out.append(token.serialize(compact=True))
        return out

    def state(self):
        with self.lock:
            subs = {}
            for sid, s in self.submissions.items():
                subs[sid] = {"caseId": s["caseId"], "destinationId": s["destinationId"],
                             "serviceType": s["serviceType"], "announced": s["announced"],
                             "attachments": sorted(s["attachments"]), "submitted": s["submitted"],
                             "problems": s["problems"],
                             "events": [e["name"] for e in s["events"]]}
            return {"destinationId": self.pki.destination, "url": self.url,
                    "faults": [("once:" if once else "") + n for n, once in self.faults],
                    "submissions": subs, "applications": json.loads(json.dumps(self.applications)),
                    "requests": list(self.requests), "tokens_issued": self.tokens_issued,
                    "connections": self.connections}

    def write(self, rel, data):
        """A file under STATE, 0600, whole or not at all."""
        path = os.path.join(self.dir, rel)
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        tmp = path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.rename(tmp, path)


def jwe_parts(text):
    """The five segments of a compact JWE and its protected header, or an error string."""
    if not isinstance(text, str):
        return None, "not a string"
    parts = text.strip().split(".")
    if len(parts) != 5 or not all(B64URL_RE.match(p) for p in parts) or not parts[4]:
        return None, "not a compact JWE (five base64url segments)"
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
        if not isinstance(header, dict):
            raise ValueError
    except ValueError:
        return None, "JWE protected header is not a JSON object"
    return (parts, header), None


def decrypt(pki, text):
    """(plaintext or None, header problems [str]) for a compact JWE checked by jwe_parts."""
    (parts, header), _ = jwe_parts(text)
    problems = []
    if header.get("alg") != "RSA-OAEP-256":
        problems.append("alg is %r, not RSA-OAEP-256" % header.get("alg"))
    if header.get("enc") != "A256GCM":
        problems.append("enc is %r, not A256GCM" % header.get("enc"))
    if header.get("kid") != pki.enc_kid:
        problems.append("kid %r is not the destination's encryption key" % header.get("kid"))
    obj = jwe_module.JWE()
    try:
        obj.deserialize(text.strip(), key=pki.enc)
        return obj.payload, problems
    except JWException as e:
        # jwcrypto 1.1 takes an empty plaintext for a failure.
        if obj.plaintext == b"" and getattr(obj, "decryptlog", [""])[-1:] == ["Success"]:
            return b"", problems
        problems.append("cannot decrypt: %s" % type(e).__name__)
    except Exception as e:  # noqa: BLE001 - whatever jwcrypto raises on garbage
        problems.append("cannot decrypt: %s" % type(e).__name__)
    return None, problems


class Problems(list):
    def add(self, kind, title, detail, instance):
        self.append({"type": PROBLEMS + kind, "title": title, "detail": detail,
                     "instance": instance})


def check_hash(problems, h, plaintext, instance):
    if not isinstance(h, dict) or set(h) != {"type", "content"}:
        problems.add("schema-violation", "Schema violation",
                     "hash must be {type, content}", instance)
        return
    if h["type"] != "sha512":
        problems.add("schema-violation", "Schema violation", "hash type is not sha512", instance)
    elif not isinstance(h["content"], str) or not HEX512_RE.match(h["content"]):
        problems.add("schema-violation", "Schema violation",
                     "hash content is not 128 lower-case hex digits", instance)
    elif plaintext is not None and h["content"] != hashlib.sha512(plaintext).hexdigest():
        problems.add("hash-mismatch", "Hash mismatch",
                     "the SHA-512 of the decrypted content differs from the metadata", instance)


def check_metadata(meta, data, have_data, uploads):
    """The problems of a decrypted metadata document against the data and attachments."""
    p = Problems()
    if not isinstance(meta, dict):
        p.add("syntax-violation", "Syntax violation", "metadata is not a JSON object", "metadata")
        return p
    for k in sorted(set(meta) - METADATA_KEYS):
        p.add("schema-violation", "Schema violation", "unknown metadata key %r" % k, "metadata")
    if "$schema" in meta and meta["$schema"] not in [METADATA_SCHEMA % v for v in METADATA_VERSIONS]:
        p.add("unsupported-metadata-schema", "Unsupported metadata schema",
              "$schema %r is not one of the destination's metadataVersions" % meta["$schema"],
              "metadata")
    cs = meta.get("contentStructure")
    if not isinstance(cs, dict):
        p.add("schema-violation", "Schema violation", "contentStructure missing", "metadata")
        return p
    for k in sorted(set(cs) - {"data", "attachments"}):
        p.add("schema-violation", "Schema violation", "unknown contentStructure key %r" % k,
              "metadata")
    d = cs.get("data")
    if d is None:
        if have_data:
            p.add("schema-violation", "Schema violation",
                  "encryptedData was sent but contentStructure.data is missing", "metadata")
    elif not isinstance(d, dict) or set(d) - {"hash", "submissionSchema"}:
        p.add("schema-violation", "Schema violation",
              "contentStructure.data must be {hash, submissionSchema}", "metadata")
    else:
        if not have_data:
            p.add("missing-data", "Missing data",
                  "contentStructure.data is given but no encryptedData was sent", "data")
        check_hash(p, d.get("hash"), data, "data")
        ss = d.get("submissionSchema")
        if not isinstance(ss, dict) or set(ss) != {"schemaUri", "mimeType"}:
            p.add("schema-violation", "Schema violation",
                  "submissionSchema must be {schemaUri, mimeType}", "metadata")
        elif ss["schemaUri"] != SCHEMA_URI or ss["mimeType"] != "application/json":
            p.add("unsupported-schema", "Unsupported schema",
                  "the destination accepts %s as application/json only" % SCHEMA_URI, "data")
        elif data is not None:
            try:
                json.loads(data)
            except ValueError:
                p.add("syntax-violation", "Syntax violation", "data is not JSON", "data")
    atts = cs.get("attachments", [])
    if not isinstance(atts, list):
        p.add("schema-violation", "Schema violation", "attachments is not a list", "metadata")
        atts = []
    seen = set()
    for i, a in enumerate(atts):
        where = "metadata"
        if not isinstance(a, dict):
            p.add("schema-violation", "Schema violation", "attachment %d is not an object" % i, where)
            continue
        aid = a.get("attachmentId")
        if uuid_ok(aid):
            where = "attachment:" + aid.lower()
        for k in sorted(set(a) - ATTACHMENT_KEYS):
            p.add("schema-violation", "Schema violation", "unknown attachment key %r" % k, where)
        if not uuid_ok(aid):
            p.add("schema-violation", "Schema violation",
                  "attachment %d has no attachmentId UUID" % i, where)
            continue
        aid = aid.lower()
        if aid in seen:
            p.add("attachments-mismatch", "Attachments mismatch", "attachmentId listed twice", where)
            continue
        seen.add(aid)
        if aid not in uploads:
            p.add("unexpected-attachment", "Unexpected attachment",
                  "metadata lists an attachment that was not uploaded", where)
            continue
        check_hash(p, a.get("hash"), uploads[aid], where)
        if a.get("purpose") not in ("form", "attachment", "report"):
            p.add("schema-violation", "Schema violation",
                  "purpose must be form, attachment or report", where)
        if not isinstance(a.get("mimeType"), str) or not MIME_RE.match(a["mimeType"]):
            p.add("schema-violation", "Schema violation", "mimeType missing or malformed", where)
        for k in ("filename", "description"):
            if k in a and not isinstance(a[k], str):
                p.add("schema-violation", "Schema violation", "%s is not a string" % k, where)
    for aid in sorted(set(uploads) - seen):
        p.add("missing-attachment", "Missing attachment",
              "an uploaded attachment is not in the metadata", "attachment:" + aid)
    return p


def parse_multipart(body, ctype):
    """[(headers Message, bytes)] of a multipart/form-data body, or None if malformed."""
    m = Message()
    m["Content-Type"] = ctype
    boundary = m.get_param("boundary")
    if not boundary:
        return None
    sep = b"\r\n--" + boundary.encode("latin-1")
    chunks = (b"\r\n" + body).split(sep)
    parts = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            return parts
        head, found, content = chunk.partition(b"\r\n\r\n")
        if not found:
            return None
        h = Message()
        for line in head.decode("utf-8", "replace").split("\r\n")[1:]:
            name, colon, value = line.partition(":")
            if colon:
                h[name.strip()] = value.strip()
        parts.append((h, content))
    return None     # no closing delimiter


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bb-test-authority/1"
    timeout = 120           # an idle keep-alive connection is closed after this

    # -- connection ------------------------------------------------------------------------
    def setup(self):
        # The handshake runs in this connection's thread, so a slow client blocks no other.
        self.request.settimeout(10)
        # Without this every answer waits for the client's delayed ACK (40 ms), which
        # would swamp what the benchmarks measure.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.authority.lock:
            self.server.authority.connections += 1
        self.request = self.server.tls.wrap_socket(self.request, server_side=True)
        super().setup()

    def handle(self):
        try:
            super().handle()
        except (OSError, ssl.SSLError):
            self.close_connection = True

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass
        try:
            self.request.close()
        except OSError:
            pass

    def log_request(self, code="-", size="-"):
        pass    # reply() logs, with the route path

    def log_message(self, fmt, *args):
        self.server.authority.log("%s %s" % (self.client_address[0], fmt % args))

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = lambda self: self.dispatch()

    # -- request and response --------------------------------------------------------------
    def read_body(self):
        """The request body (Content-Length or chunked); None after answering 413."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
                if len(data) > MAX_BODY:
                    break
        else:
            try:
                n = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                n = -1
            if 0 <= n <= MAX_BODY:
                return self.rfile.read(n)
        self.close_connection = True
        self.problem(413, "Payload too large", "this rig takes at most %d bytes" % MAX_BODY)
        return None

    def reply(self, status, body=None, ctype="application/json", headers=()):
        if body is None:
            data = b""
        elif isinstance(body, bytes):
            data = body
        else:
            data = (json.dumps(body, indent=1) + "\n").encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", ctype)
        if status != 204:
            self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.note(status)

    def note(self, status):
        a = self.server.authority
        entry = "%s %s %s" % (self.command, self.route_path, status)
        if not self.route_path.startswith("/_control/"):
            with a.lock:
                a.requests.append(entry)
        a.log("%s %s" % (self.client_address[0], entry))

    def problem(self, status, title, detail=None, headers=(), ptype="about:blank"):
        body = {"type": ptype, "title": title, "status": status, "instance": self.route_path}
        if detail:
            body["detail"] = detail
        self.reply(status, body, "application/problem+json", headers)

    def ctype(self):
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    def json_body(self, body):
        """The JSON object in body, or None after answering 415/400."""
        if self.ctype() != "application/json":
            self.problem(415, "Unsupported media type", "send application/json")
            return None
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            self.problem(400, "Bad request", "the body is not a JSON object")
            return None
        return doc

    def bearer(self):
        auth = self.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        return token.strip() if scheme.lower() == "bearer" else None

    # -- dispatch --------------------------------------------------------------------------
    ROUTES = [
        ("POST", r"/token", "token"),
        ("GET", r"/v1/destinations/([^/]+)", "destination"),
        ("GET", r"/v1/destinations/([^/]+)/keys/([^/]+)", "key"),
        ("POST", r"/v1/submissions", "create"),
        ("PUT", r"/v1/submissions/([^/]+)/attachments/([^/]+)", "attachment"),
        ("PUT", r"/v1/submissions/([^/]+)", "submit"),
        ("GET", r"/v1/cases/([^/]+)/events", "events"),
        ("GET", r"/\.well-known/jwks\.json", "jwks"),
        ("POST", r"/applications", "applications"),
    ]

    def dispatch(self):
        self.route_path = urlsplit(self.path).path
        path = self.route_path
        if path.startswith("/_control/"):
            return self.control(path)
        kind, args, allowed = None, (), set()
        for method, pattern, name in self.ROUTES:
            m = re.fullmatch(pattern, path)
            if m:
                allowed.add(method)
                if method == self.command:
                    kind, args = name, tuple(unquote(g) for g in m.groups())
        a = self.server.authority
        fault = a.take_fault(kind)
        if fault == "drop":
            return self.drop()
        body = self.read_body()
        if body is None:
            return
        if fault == "hang":
            return self.hang()
        if fault in ("500", "503"):
            return self.problem(int(fault), "Injected fault %s" % fault)
        if fault == "429":
            return self.problem(429, "Too many requests", headers=(
                ("RateLimit-Limit", "100"), ("RateLimit-Remaining", "0"),
                ("RateLimit-Reset", "7"), ("Retry-After", "7")))
        if fault == "token-401":
            return self.problem(401, "Unauthorized", "client authentication failed (fault)")
        if re.match(r"/v1/(submissions|cases)(/|$)", path):
            token = self.bearer()
            if not token or not a.token_valid(token):
                return self.problem(401, "Unauthorized", "a valid Bearer token is required",
                                    headers=(("WWW-Authenticate", 'Bearer realm="submission-api"'),))
        if kind is None:
            if allowed:
                return self.problem(405, "Method not allowed",
                                    headers=(("Allow", ", ".join(sorted(allowed))),))
            return self.problem(404, "Not found")
        return getattr(self, "do_" + kind)(body, fault, *args)

    def hang(self):
        """Answer never; wait until the client closes the connection."""
        self.note("hang")
        self.close_connection = True
        sock = self.connection
        while True:
            r, _, _ = select.select([sock], [], [], 1.0)
            if not r:
                continue
            try:
                if not sock.recv(65536):
                    return
            except (ssl.SSLWantReadError, socket.timeout):
                continue
            except OSError:
                return

    def drop(self):
        """Read half the body, then close the connection without an answer."""
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = 0
        if n > 0:
            self.rfile.read(n // 2)
        else:
            self.rfile.readline()
        self.note("drop")
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- control ---------------------------------------------------------------------------
    def control(self, path):
        a = self.server.authority
        body = self.read_body()
        if body is None:
            return
        if path == "/_control/state" and self.command == "GET":
            return self.reply(200, a.state())
        if path == "/_control/fault" and self.command == "POST":
            try:
                doc = json.loads(body)
                want = doc["fault"]
            except (ValueError, KeyError, TypeError):
                return self.problem(400, "Bad request", 'send {"fault": NAME|"once:NAME"|null}')
            want = [] if want in (None, "none") else want if isinstance(want, list) else [want]
            faults = []
            for f in want:
                once = isinstance(f, str) and f.startswith("once:")
                name = f[5:] if once else f
                if name in START_ONLY_FAULTS:
                    return self.problem(400, "Bad request", "%s works only with --fault" % name)
                if name.partition("@")[0] not in FAULTS:
                    return self.problem(400, "Bad request", "unknown fault %r" % (f,))
                faults.append((name, once))
            with a.lock:
                a.faults[:] = faults
            a.log("faults: %s" % (", ".join(want) or "none"))
            return self.reply(200, {"faults": want})
        return self.problem(404, "Not found")

    # -- FIT-Connect -----------------------------------------------------------------------
    def do_token(self, body, fault):
        a = self.server.authority
        if self.ctype() != "application/x-www-form-urlencoded":
            return self.reply(400, {"error": "invalid_request",
                                    "error_description": "send a form (x-www-form-urlencoded)"})
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
                client_id, secret = unquote(client_id), unquote(secret)
            except ValueError:
                pass
        if form.get("grant_type") != "client_credentials":
            return self.reply(400, {"error": "unsupported_grant_type"})
        if client_id != CLIENT_ID or not secret or not hmac.compare_digest(
                secret.encode(), a.pki.client_secret.encode()):
            return self.reply(401, {"type": "about:blank", "title": "Unauthorized", "status": 401,
                                    "error": "invalid_client",
                                    "detail": "unknown client or wrong secret"},
                              "application/problem+json")
        # token-ttl-max: a lifetime near the 64-bit maximum (the token itself lives as long
        # as any).
        return self.reply(200, {"access_token": a.issue_token(), "token_type": "Bearer",
                                "expires_in": (1 << 63) - 1 if fault == "token-ttl-max"
                                else TOKEN_LIFETIME},
                          headers=(("Cache-Control", "no-store"),))

    def do_destination(self, body, fault, dest):
        a = self.server.authority
        if dest.lower() != a.pki.destination:
            return self.problem(404, "Not found", "no such destination")
        return self.reply(200, {
            "destinationId": a.pki.destination, "status": "active",
            "encryptionKid": a.pki.enc_kid, "metadataVersions": METADATA_VERSIONS,
            "services": [{"identifier": s,
                          "submissionSchemas": [{"schemaUri": SCHEMA_URI,
                                                 "mimeType": "application/json"}],
                          "regions": []} for s in a.services],
            "replyChannels": {}})

    def do_key(self, body, fault, dest, kid):
        a = self.server.authority
        if dest.lower() != a.pki.destination or kid not in (a.pki.enc_kid, a.pki.dest_sig_kid):
            return self.problem(404, "Not found", "no such destination or key")
        # key-* faults change the encryption key, sigkey-* the signature key.
        if kid == a.pki.dest_sig_kid:
            good, mine = a.pki.dest_sig_jwk, (fault or "").startswith("sigkey-")
        else:
            good, mine = a.pki.enc_jwk, (fault or "").startswith("key-")
        return self.reply(200, a.pki.jwk_faults[fault] if mine else good)

    def do_jwks(self, body, fault):
        return self.reply(200, self.server.authority.pki.jwks)

    def do_create(self, body, fault):
        a = self.server.authority
        doc = self.json_body(body)
        if doc is None:
            return
        bad = sorted(set(doc) - {"destinationId", "announcedAttachments", "serviceType"})
        if bad:
            return self.problem(400, "Bad request", "unknown fields: %s" % ", ".join(bad))
        if not uuid_ok(doc.get("destinationId")):
            return self.problem(400, "Bad request", "destinationId must be a UUID")
        if doc["destinationId"].lower() != a.pki.destination:
            return self.problem(422, "Unprocessable entity", "unknown destination")
        ann = doc.get("announcedAttachments", [])
        if not isinstance(ann, list) or not all(uuid_ok(x) for x in ann):
            return self.problem(400, "Bad request", "announcedAttachments must be a list of UUIDs")
        ann = [x.lower() for x in ann]
        if len(set(ann)) != len(ann) or len(ann) > MAX_ATTACHMENTS:
            return self.problem(400, "Bad request",
                                "announcedAttachments: duplicates or more than %d" % MAX_ATTACHMENTS)
        st = doc.get("serviceType")
        if not isinstance(st, dict) or set(st) - {"identifier", "name"} or \
                not isinstance(st.get("identifier"), str) or \
                not isinstance(st.get("name", ""), str):
            return self.problem(400, "Bad request", "serviceType must be {identifier, name?}")
        if not LEIKA_RE.match(st["identifier"]):
            return self.problem(422, "Unprocessable entity",
                                "serviceType.identifier is not a LeiKa URN this destination serves")
        sid, case = str(uuid.uuid4()), str(uuid.uuid4())
        sub = {"submissionId": sid, "caseId": case, "destinationId": a.pki.destination,
               "serviceType": st, "announced": ann, "attachments": {}, "submitted": False,
               "problems": [], "events": []}
        with a.lock:
            a.submissions[sid] = sub
            a.cases[case] = sid
            a.add_event(sub, "create-submission", {})
        a.log("submission %s created, case %s, %d attachments announced" % (sid, case, len(ann)))
        return self.reply(201, {"destinationId": a.pki.destination, "submissionId": sid,
                                "caseId": case})

    def submission(self, sid):
        a = self.server.authority
        with a.lock:
            sub = a.submissions.get(sid.lower())
        if sub is None:
            self.problem(404, "Not found", "no such submission")
        return sub

    def do_attachment(self, body, fault, sid, aid):
        a = self.server.authority
        sub = self.submission(sid)
        if sub is None:
            return
        aid = aid.lower()
        if aid not in sub["announced"]:
            return self.problem(422, "Unprocessable entity", "attachment was not announced")
        if sub["submitted"]:
            return self.problem(409, "Conflict", "the submission was submitted already")
        if self.ctype() != "application/jose":
            return self.problem(415, "Unsupported media type", "send application/jose")
        text = body.decode("ascii", "replace")
        _, err = jwe_parts(text)
        if err:
            return self.problem(400, "Bad request", err)
        plain, problems = decrypt(a.pki, text)
        if plain is not None:
            a.write(os.path.join("received", sub["submissionId"], "attachments", aid), plain)
        with a.lock:
            sub["attachments"][aid] = {"tag": text.strip().rsplit(".", 1)[1], "plain": plain,
                                       "problems": problems}
        a.log("submission %s attachment %s uploaded (%d bytes)%s" % (
            sub["submissionId"], aid, len(body), "; " + "; ".join(problems) if problems else ""))
        return self.reply(204)

    def do_submit(self, body, fault, sid):
        sub = self.submission(sid)
        if sub is None:
            return
        if sub["submitted"]:
            return self.problem(409, "Conflict", "the submission was submitted already")
        doc = self.json_body(body)
        if doc is None:
            return
        bad = sorted(set(doc) - {"encryptedMetadata", "encryptedData"})
        if bad:
            return self.problem(400, "Bad request", "unknown fields: %s" % ", ".join(bad))
        for k in ("encryptedMetadata", "encryptedData"):
            if k in doc or k == "encryptedMetadata":
                _, err = jwe_parts(doc.get(k))
                if err:
                    return self.problem(400, "Bad request", "%s: %s" % (k, err))
        missing = sorted(set(sub["announced"]) - set(sub["attachments"]))
        if missing:
            return self.problem(422, "Unprocessable entity",
                                "announced attachments missing: %s" % ", ".join(missing))
        if fault == "422-submit":
            return self.problem(422, "Unprocessable entity", "refused (fault 422-submit)")
        self.accept(sub, doc, fault)
        return self.reply(202, {"destinationId": sub["destinationId"],
                                "submissionId": sub["submissionId"], "caseId": sub["caseId"]})

    def accept(self, sub, doc, fault):
        """Decrypt, check, store; then the events submit-submission and accept or reject."""
        a = self.server.authority
        sid = sub["submissionId"]
        p = Problems()
        meta_plain, hp = decrypt(a.pki, doc["encryptedMetadata"])
        for msg in hp:
            p.add("encryption-issue", "Encryption issue", msg, "metadata")
        data_plain = None
        if "encryptedData" in doc:
            data_plain, hp = decrypt(a.pki, doc["encryptedData"])
            for msg in hp:
                p.add("encryption-issue", "Encryption issue", msg, "data")
        uploads = {}
        for aid, att in sorted(sub["attachments"].items()):
            for msg in att["problems"]:
                p.add("encryption-issue", "Encryption issue", msg, "attachment:" + aid)
            uploads[aid] = att["plain"]
        meta = None
        if meta_plain is not None:
            a.write(os.path.join("received", sid, "metadata.json"), meta_plain)
            try:
                meta = json.loads(meta_plain)
            except ValueError:
                p.add("syntax-violation", "Syntax violation", "metadata is not JSON", "metadata")
        if data_plain is not None:
            a.write(os.path.join("received", sid, "data.json"), data_plain)
        if meta is not None:
            p.extend(check_metadata(meta, data_plain, "encryptedData" in doc, uploads))
        if fault == "reject":
            p.add("technical-error", "Rejected", "the test authority rejects (fault reject)",
                  "submission")
        elif fault == "reject-hostile":
            p.insert(0, {"type": PROBLEMS + "technical-error", "title": "Rejected",
                         "detail": HOSTILE_REASON, "instance": "submission"})
        tags = {"metadata": doc["encryptedMetadata"].strip().rsplit(".", 1)[1],
                "attachments": {aid: att["tag"] for aid, att in sorted(sub["attachments"].items())}}
        if "encryptedData" in doc:
            tags["data"] = doc["encryptedData"].strip().rsplit(".", 1)[1]
        a.write(os.path.join("received", sid, "problems.json"),
                (json.dumps(p, indent=1) + "\n").encode())
        with a.lock:
            sub["submitted"] = True
            sub["problems"] = list(p)
            a.add_event(sub, "submit-submission", {"authenticationTags": tags})
            if p:
                a.add_event(sub, "reject-submission", {"problems": list(p)})
            else:
                a.add_event(sub, "accept-submission", {"authenticationTags": tags})
        a.log("submission %s submitted: %s" % (sid, "rejected: " + ", ".join(
            "%s (%s)" % (x["type"].rsplit("/", 1)[1], x["instance"]) for x in p) if p else "accepted"))

    def do_events(self, body, fault, case):
        a = self.server.authority
        with a.lock:
            sub = a.submissions.get(a.cases.get(case.lower(), ""))
        if sub is None:
            return self.problem(404, "Not found", "no such case")
        log = a.signed_events(sub, fault)
        return self.reply(200, {"count": len(log), "offset": 0, "totalCount": len(log),
                                "eventLog": log})

    # -- the https target ------------------------------------------------------------------
    def do_applications(self, body, fault):
        a = self.server.authority
        token = self.bearer()
        if not token or not hmac.compare_digest(token.encode(), a.pki.bearer.encode()):
            return self.problem(401, "Unauthorized", "a valid Bearer token is required",
                                headers=(("WWW-Authenticate", 'Bearer realm="applications"'),))
        key = self.headers.get("Idempotency-Key", "").strip()
        if not key:
            return self.problem(400, "Bad request", "Idempotency-Key header required")
        if not uuid_ok(key):
            return self.problem(400, "Bad request", "Idempotency-Key must be the case id (UUID)")
        key = key.lower()
        ctype = self.ctype()
        files = {}
        if ctype == "application/json":
            case = self.json_body(body)
            if case is None:
                return
            if not isinstance(case.get("bb"), int) or not uuid_ok(case.get("id")):
                return self.problem(422, "Unprocessable entity", "not a case: bb and id required")
            if case["id"].lower() != key:
                return self.problem(422, "Unprocessable entity",
                                    "Idempotency-Key differs from the case id")
            files["case.json"] = body
            manifest = {"format": "case"}
        elif ctype == "multipart/form-data":
            parts = parse_multipart(body, self.headers.get("Content-Type", ""))
            if parts is None:
                return self.problem(400, "Bad request", "malformed multipart/form-data")
            listed = []
            for h, content in parts:
                name = h.get_param("name", header="content-disposition")
                filename = h.get_filename()
                if not name:
                    return self.problem(400, "Bad request", "a part without a name")
                listed.append({"name": name, "filename": filename,
                               "type": h.get_content_type(), "size": len(content),
                               "sha512": hashlib.sha512(content).hexdigest()})
                store = "form.json" if name == "form" else os.path.join(
                    "parts", re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or "_")
                if store in files:
                    return self.problem(400, "Bad request", "part %r twice" % name)
                files[store] = content
            if "form.json" not in files:
                return self.problem(422, "Unprocessable entity", 'no part named "form"')
            try:
                if not isinstance(json.loads(files["form.json"]), dict):
                    raise ValueError
            except ValueError:
                return self.problem(422, "Unprocessable entity",
                                    'the "form" part is not a JSON object')
            manifest = {"format": "multipart", "parts": listed}
        else:
            return self.problem(415, "Unsupported media type",
                                "send application/json or multipart/form-data")
        with a.lock:
            app = a.applications.get(key)
            if app is None:
                app = dict(manifest, reference="TOWN-%06d" % (len(a.applications) + 1), posts=0)
                for name, content in files.items():
                    a.write(os.path.join("applications", key, name), content)
                a.write(os.path.join("applications", key, "manifest.json"),
                        (json.dumps(app, indent=1) + "\n").encode())
                a.applications[key] = app
            app["posts"] += 1
            ref, posts = app["reference"], app["posts"]
        a.log("application %s: %s%s" % (key, ref, " (again, not stored)" if posts > 1 else ""))
        return self.reply(201, {"reference": ref},
                          headers=(("Location", a.url + "applications/" + ref),))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def server_bind(self):
        # HTTPServer.server_bind would resolve the host name: not needed, sometimes slow.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (OSError, ssl.SSLError)):
            self.authority.log("%s connection: %s" % (client_address[0], exc))
        else:
            import traceback
            self.authority.log("%s internal error: %s" % (
                client_address[0], traceback.format_exc().replace("\n", " | ")))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", required=True, help="state directory (port, log, received/)")
    ap.add_argument("--pki", help="directory made by make-pki (default: --dir)")
    ap.add_argument("--port", type=int, default=0, help="0: the kernel picks one")
    ap.add_argument("--fault", action="append", default=[], metavar="NAME",
                    help="a fault from the start (once:NAME for the next request only)")
    ap.add_argument("--parent", type=int, help="exit when this process has ended")
    opts = ap.parse_args()

    faults, tls_other, tls_cipher = [], False, None
    for f in opts.fault:
        once = f.startswith("once:")
        name = f[5:] if once else f
        if name == "tls-unknown-ca":
            tls_other = True
        elif name.startswith("tls12-cipher="):
            tls_cipher = name.partition("=")[2]
        elif name in START_ONLY_FAULTS:
            pass
        elif name.partition("@")[0] in FAULTS:
            faults.append((name, once))
        elif name != "none":
            ap.error("unknown fault %r" % f)

    os.makedirs(opts.dir, mode=0o700, exist_ok=True)
    try:
        pki = Pki(opts.pki or opts.dir)
    except OSError as e:
        sys.exit("authority: PKI: %s (run make-pki first)" % e)
    top = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    authority = Authority(opts.dir, pki, faults, leika_keys(top))

    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.minimum_version = ssl.TLSVersion.TLSv1_2
    tls.load_cert_chain(*(pki.tls_other if tls_other else pki.tls))
    if tls_cipher:
        # A server that offers TLS 1.2 with just this suite (OpenSSL name).
        tls.maximum_version = ssl.TLSVersion.TLSv1_2
        tls.set_ciphers(tls_cipher)
    if "client-cert" in opts.fault:
        # Mutual TLS: only clients with a certificate from the test TLS CA get in.
        tls.verify_mode = ssl.CERT_REQUIRED
        tls.load_verify_locations(os.path.join(opts.pki or opts.dir, "tls-ca.pem"))

    server = Server(("127.0.0.1", opts.port), Handler)
    server.tls = tls
    server.authority = authority
    port = server.server_address[1]
    authority.url = "https://127.0.0.1:%d/" % port
    if opts.parent:
        exit_with(opts.parent)
    authority.log("listening on %s%s%s" % (authority.url, " (tls-unknown-ca)" if tls_other else "",
                                         "; faults: " + " ".join(opts.fault) if opts.fault else ""))
    write_port(os.path.join(opts.dir, "port"), port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass


if __name__ == "__main__":
    main()
