#!/usr/bin/python3
"""A test eID-Server and eService (BSI TR-03130 / TR-03112-7 PAOS) for AusweisApp on
127.0.0.1: the TC Token, the PAOS conversation (StartPAOS, InitializeFramework,
DIDAuthenticate EAC1 / EAC2 / EACAdditionalInput, Transmit, StartPAOSResponse), Terminal
Authentication with the rig's online terminal key, Chip Authentication against the key in
the card's EF.CardSecurity, and the data groups read under secure messaging. The identity
read is given once by the result endpoint, as bb-eid read writes its identity part.
See tests/rig/README.

    eidserver.py --pki DIR --dir STATE [--port 0] [--fault NAME]... [--parent PID]
    eidserver.py describe --pki DIR --url URL

Run with /usr/bin/python3 (python3-cryptography). The first form serves HTTPS with
DIR/online/tls.{pem,key}, writes STATE/port when listening and logs to STATE/eidserver.log
(message kinds and protocol steps, never the data read). The second (make-eid-pki) writes
DIR/online/terminal.desc, the CertificateDescription for subjectURL URL, and signs
DIR/online/terminal.cvcert anew (with DIR/online/dv.pem) over its hash.
"""
import hashlib
import http.server
import json
import os
import re
import secrets
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC
from cryptography import x509

from rigserver import exit_with, write_port

# --- DER / BER-TLV -------------------------------------------------------------------------


def tlv_len(n):
	if n < 0x80:
		return bytes([n])
	b = n.to_bytes((n.bit_length() + 7) // 8, "big")
	return bytes([0x80 | len(b)]) + b


def tlv(tag, value):
	t = tag.to_bytes((tag.bit_length() + 7) // 8 or 1, "big")
	return t + tlv_len(len(value)) + value


def tlv_parse(b):
	"""[(tag, value)] of the TLVs in b, tags as integers (multi-byte tags whole)."""
	out, i = [], 0
	while i < len(b):
		t = b[i]
		i += 1
		if t & 0x1F == 0x1F:
			while True:
				t = (t << 8) | b[i]
				i += 1
				if not b[i - 1] & 0x80:
					break
		n = b[i]
		i += 1
		if n & 0x80:
			k = n & 0x7F
			n = int.from_bytes(b[i:i + k], "big")
			i += k
		if i + n > len(b):
			raise ValueError("TLV longer than its container")
		out.append((t, b[i:i + n]))
		i += n
	return out


def tlv_get(b, tag):
	for t, v in tlv_parse(b):
		if t == tag:
			return v
	return None


def oid_der(dotted):
	p = [int(x) for x in dotted.split(".")]
	out = bytes([40 * p[0] + p[1]])
	for x in p[2:]:
		enc = [x & 0x7F]
		x >>= 7
		while x:
			enc.append(0x80 | (x & 0x7F))
			x >>= 7
		out += bytes(reversed(enc))
	return out


# --- The certificate description and the terminal certificate -----------------------------

ID_PLAIN_FORMAT = "0.4.0.127.0.7.3.1.3.1.1"
ID_DESCRIPTION = oid_der("0.4.0.127.0.7.3.1.3.1")


def certificate_description(subject_url, tls_der, terms):
	"""TR-03110 part 4, 2.2.6: explicit tags; commCertificates the SHA-256 of the TLS
	certificate, which binds the terminal certificate to the server's TLS."""
	def ctx(n, inner):
		return tlv(0xA0 | n, inner)
	return tlv(0x30, tlv(0x06, oid_der(ID_PLAIN_FORMAT))
		   + ctx(1, tlv(0x0C, "bb test DV (DEDVeIDDTR00001)".encode()))
		   + ctx(3, tlv(0x0C, "bb Testbehoerde Online-Dienst".encode()))
		   + ctx(4, tlv(0x13, subject_url.encode("ascii")))
		   + ctx(5, tlv(0x0C, terms.encode()))
		   + ctx(7, tlv(0x31, tlv(0x04, hashlib.sha256(tls_der).digest()))))


def plain_signature(key, data):
	"""ECDSA-SHA-256 as CV certificates and TA carry it: r || s, each the field size."""
	r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
	n = (key.curve.key_size + 7) // 8
	return r.to_bytes(n, "big") + s.to_bytes(n, "big")


def resign(cert, desc, dv_key):
	"""The CV certificate cert with its description hash set to SHA-256(desc), signed
	anew by dv_key. The lengths stay: the hash replaces one of the same size."""
	(t, v), = tlv_parse(cert)
	assert t == 0x7F21
	body = tlv(0x7F4E, tlv_get(v, 0x7F4E))
	pat = re.compile(re.escape(tlv(0x06, ID_DESCRIPTION) + b"\x80\x20") + b"(.{32})", re.S)
	m = pat.search(body)
	if m is None:
		raise ValueError("the certificate has no description hash")
	body = body[:m.start(1)] + hashlib.sha256(desc).digest() + body[m.end(1):]
	return tlv(0x7F21, body + tlv(0x5F37, plain_signature(dv_key, body)))


def load_key(path):
	with open(path, "rb") as f:
		return serialization.load_pem_private_key(f.read(), None)


class Pki:
	def __init__(self, d):
		self.dir = d
		o = os.path.join(d, "online")
		with open(os.path.join(o, "tls.pem"), "rb") as f:
			self.tls_der = x509.load_pem_x509_certificate(f.read()).public_bytes(
				serialization.Encoding.DER)
		self.terminal = open(os.path.join(o, "terminal.cvcert"), "rb").read()
		self.terminal_key = load_key(os.path.join(o, "terminal.pem"))
		self.dv_key = load_key(os.path.join(o, "dv.pem"))
		self.dv = open(os.path.join(d, "dv", "dv.cvcert"), "rb").read()
		self.terms = open(os.path.join(d, "terminal", "desc.txt"), encoding="utf-8").read()
		self.tls_cert = os.path.join(o, "tls.pem")
		self.tls_key = os.path.join(o, "tls.key")

	def for_url(self, url):
		desc = certificate_description(url, self.tls_der, self.terms)
		return desc, resign(self.terminal, desc, self.dv_key)


def describe(pki, url):
	p = Pki(pki)
	desc, cert = p.for_url(url)
	o = os.path.join(pki, "online")
	for name, data in (("terminal.desc", desc), ("terminal.cvcert", cert)):
		tmp = os.path.join(o, name + ".tmp")
		with open(tmp, "wb") as f:
			f.write(data)
		os.replace(tmp, os.path.join(o, name))


# --- CHAT -------------------------------------------------------------------------------

# The data groups bb-eid read reads (lib/eid/dg.c): DG1-DG10, DG13, DG17-DG20.
READ_DGS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 17, 18, 19, 20)
ID_AT = oid_der("0.4.0.127.0.7.3.1.2.2")


def chat(dgs, extra=0):
	bits = extra
	for n in dgs:
		bits |= 1 << (7 + n)
	return tlv(0x7F4C, tlv(0x06, ID_AT) + tlv(0x53, bits.to_bytes(5, "big")))


AGE_VERIFICATION = 1 << 0
ID_DATE_OF_BIRTH = oid_der("0.4.0.127.0.7.3.1.4.1")

# --- Chip authentication and secure messaging ---------------------------------------------

CURVES = {12: ec.SECP256R1, 13: ec.BrainpoolP256R1, 15: ec.SECP384R1,
	  16: ec.BrainpoolP384R1, 17: ec.BrainpoolP512R1, 18: ec.SECP521R1}
ID_PK_ECDH = oid_der("0.4.0.127.0.7.2.2.1.2")
ID_CA_ECDH = oid_der("0.4.0.127.0.7.2.2.3.2")
ID_STD_PARAMS = oid_der("0.4.0.127.0.7.1.2")


def walk(b, depth=0):
	"""Every constructed DER value in b (recursively), for finding SecurityInfos."""
	try:
		items = tlv_parse(b)
	except (ValueError, IndexError):
		return
	for t, v in items:
		first = t >> (8 * ((t.bit_length() - 1) // 8)) if t > 0xFF else t
		if first & 0x20:
			yield t, v
			if depth < 12:
				yield from walk(v, depth + 1)
		elif t == 0x04 and depth < 12:
			# eContent: the SecurityInfos inside an OCTET STRING.
			yield from walk(v, depth + 1)


def chip_key(card_security):
	"""(curve, public point, CA protocol OID) from EF.CardSecurity's SecurityInfos."""
	pub = proto = None
	for t, v in walk(card_security):
		if t != 0x30:
			continue
		try:
			items = tlv_parse(v)
		except (ValueError, IndexError):
			continue
		if not items or items[0][0] != 0x06:
			continue
		oid = items[0][1]
		if oid == ID_PK_ECDH and len(items) >= 2:
			spki = tlv_parse(items[1][1])
			alg = tlv_parse(spki[0][1])
			if alg[0][1] != ID_STD_PARAMS:
				raise ValueError("chip key without standardized domain parameters")
			curve = CURVES[int.from_bytes(alg[1][1], "big")]()
			pub = (curve, spki[1][1][1:])	# the BIT STRING without its unused-bits byte
		elif oid.startswith(ID_CA_ECDH) and len(oid) == len(ID_CA_ECDH) + 1:
			proto = oid
	if pub is None or proto is None:
		raise ValueError("EF.CardSecurity holds no chip authentication key or info")
	return pub[0], pub[1], proto


def passive_auth(pki, card_security):
	"""The document signer's subject (RFC 2253) when EF.CardSecurity's signature holds
	under the rig's CSCA (openssl cms, as make-eid-pki signed it), else None."""
	import subprocess
	import tempfile
	with tempfile.TemporaryDirectory() as d:
		cs, ds = os.path.join(d, "cs"), os.path.join(d, "ds.pem")
		with open(cs, "wb") as f:
			f.write(card_security)
		r = subprocess.run(["openssl", "cms", "-verify", "-inform", "DER", "-in", cs,
				    "-CAfile", os.path.join(pki.dir, "csca", "csca.pem"),
				    "-purpose", "any", "-out", os.devnull, "-signer", ds],
				   stdin=subprocess.DEVNULL, capture_output=True)
		if r.returncode != 0:
			return None
		r = subprocess.run(["openssl", "x509", "-in", ds, "-noout", "-subject", "-nameopt",
				    "RFC2253"], capture_output=True, text=True)
		return r.stdout.strip().partition("=")[2] if r.returncode == 0 else None


def kdf(secret, nonce, counter, proto):
	bits = {2: 128, 3: 192, 4: 256}[proto[-1]]
	h = hashlib.sha1 if bits == 128 else hashlib.sha256
	return h(secret + nonce + counter.to_bytes(4, "big")).digest()[:bits // 8]


def pad(b):
	b += b"\x80"
	return b + b"\0" * (-len(b) % 16)


def unpad(b):
	i = b.rstrip(b"\0")
	if not i.endswith(b"\x80"):
		raise ValueError("bad padding")
	return i[:-1]


def cmac(key, data):
	c = CMAC(algorithms.AES(key))
	c.update(data)
	return c.finalize()[:8]


class SecureMessaging:
	def __init__(self, kenc, kmac):
		self.kenc, self.kmac, self.ssc = kenc, kmac, 0

	def _iv(self, ssc):
		e = Cipher(algorithms.AES(self.kenc), modes.ECB()).encryptor()
		return e.update(ssc.to_bytes(16, "big")) + e.finalize()

	def wrap(self, cla, ins, p1, p2, data=b"", le=None):
		"""A command APDU under secure messaging; le: None none, else expected bytes
		(0 = as many as there are, extended). Commands go in batches (one Transmit):
		each takes the SSC after the previous one's response, its response the next."""
		self.ssc += 2
		ssc = self.ssc - 1
		header = bytes([cla | 0x0C, ins, p1, p2])
		do87 = b""
		if data:
			e = Cipher(algorithms.AES(self.kenc), modes.CBC(self._iv(ssc))).encryptor()
			do87 = tlv(0x87, b"\x01" + e.update(pad(data)) + e.finalize())
		do97 = b"" if le is None else tlv(0x97, le.to_bytes(2, "big"))
		mac = cmac(self.kmac, pad(ssc.to_bytes(16, "big") + pad(header) + do87 + do97))
		body = do87 + do97 + tlv(0x8E, mac)
		return header + b"\0" + len(body).to_bytes(2, "big") + body + b"\0\0"

	def unwrap(self, rapdu, ssc):
		"""(data, status word) of a response under secure messaging; ssc: its command's
		SSC + 1."""
		if len(rapdu) < 2:
			raise ValueError("short response")
		if len(rapdu) == 2:
			return b"", int.from_bytes(rapdu, "big")
		body = rapdu[:-2]
		items = tlv_parse(body)
		do87 = do99 = mac = None
		macced = b""
		for t, v in items:
			if t == 0x87:
				do87 = v
				macced += tlv(t, v)
			elif t == 0x99:
				do99 = v
				macced += tlv(t, v)
			elif t == 0x8E:
				mac = v
		if mac is None or do99 is None:
			raise ValueError("response without DO99 or DO8E")
		if cmac(self.kmac, pad(ssc.to_bytes(16, "big") + macced)) != mac:
			raise ValueError("response MAC wrong")
		data = b""
		if do87 is not None:
			d = Cipher(algorithms.AES(self.kenc), modes.CBC(self._iv(ssc))).decryptor()
			data = unpad(d.update(do87[1:]) + d.finalize())
		return data, int.from_bytes(do99, "big")


# --- The data groups as bb-eid read writes them ---------------------------------------------

# ICAO 9303 codes to ISO 3166-1 alpha-2, as bb-eid writes them: "D" and a few neighbours
# (the rig's cards); any other code stays as the card holds it.
COUNTRIES = {"D": "DE", "AUT": "AT", "BEL": "BE", "CHE": "CH", "CZE": "CZ", "DNK": "DK",
	     "ESP": "ES", "FRA": "FR", "GBR": "GB", "ITA": "IT", "LUX": "LU", "NLD": "NL",
	     "POL": "PL", "TUR": "TR", "UKR": "UA", "USA": "US"}


def country(v):
	c = v.decode("ascii", "replace").strip()
	return COUNTRIES.get(c, c)


def date(v, partial=False):
	s = v.decode("ascii", "replace")
	parts = [s[0:4], s[4:6], s[6:8]]
	if partial:
		while parts and (set(parts[-1]) <= {" ", "0"}):
			parts.pop()
	return "-".join(parts)


def place(v):
	"""(street, zip, city, state, country) of a Place, or text for the other kinds."""
	(t, inner), = tlv_parse(v)
	if t in (0xA1, 0xA2):
		return "" if t == 0xA2 else tlv_parse(inner)[0][1].decode()
	p = {}
	for t2, v2 in tlv_parse(inner):
		val = tlv_parse(v2)[0][1]
		p[t2] = country(val) if t2 == 0xAD else val.decode()
	return (p.get(0xAA, ""), p.get(0xAE, ""), p.get(0xAB, ""), p.get(0xAC, ""),
		p.get(0xAD, ""))


def place_text(pl):
	if isinstance(pl, str):
		return pl
	street, zip_, city, state, co = pl
	out = ""
	for sep, s in ((", ", street), (", ", zip_), (" " if zip_ else ", ", city),
		       (", ", state), (", ", co if co != "DE" else "")):
		if s:
			out += (sep if out else "") + s
	return out


def community_id(v):
	d = "".join("%d%d" % (b >> 4, b & 15) for b in v)
	if len(v) == 7 and d[6] == "0" and d[10] == "0":
		g = "%s %s %s %s" % (d[4:6], d[7], d[8:10], d[11:14])
		return g if d.startswith("0276") else d[:4] + " " + g
	return d


def identity(dgs):
	"""The identity part's keys from the data groups read (raw DG files by number)."""
	def inner(n):
		(t, v), = tlv_parse(dgs[n])
		return v

	def text(n):
		if n not in dgs:
			return ""
		(t, v), = tlv_parse(inner(n))
		return v.decode()
	out = {
		"document_type": text(1),
		"issuing_state": country(tlv_parse(inner(2))[0][1]) if 2 in dgs else "",
		"expiry": date(tlv_parse(inner(3))[0][1]) if 3 in dgs else "",
		"given_names": text(4),
		"family_names": text(5),
		"birth_name": text(13),
		"artistic_name": text(6),
		"academic_title": text(7),
		"date_of_birth": date(tlv_parse(inner(8))[0][1], True) if 8 in dgs else "",
		"place_of_birth": place_text(place(inner(9))) if 9 in dgs else "",
		"nationality": country(tlv_parse(inner(10))[0][1]) if 10 in dgs else "",
	}
	addr = {"street": "", "postal_code": "", "city": "", "country": ""}
	if 17 in dgs and inner(17):
		pl = place(inner(17))
		if isinstance(pl, str):
			addr["street"] = pl
		else:
			addr = {"street": pl[0], "postal_code": pl[1], "city": pl[2], "country": pl[4]}
	out["address"] = addr
	out["community_id"] = community_id(tlv_parse(inner(18))[0][1]) if 18 in dgs else ""
	# Text ::= CHOICE { uncompressed [1] UTF8String, ... }: DG19's lines, then DG20's.
	lines = []
	for n in (19, 20):
		if n in dgs and inner(n):
			(t, v), = tlv_parse(inner(n))
			text_ = tlv_parse(v)[0][1].decode() if t == 0xA1 else ""
			lines += [x for x in re.split("[\r\n]", text_) if x]
	out["residence_permit"] = lines
	return out


# --- PAOS ---------------------------------------------------------------------------------

NS = {
	"soap": "http://schemas.xmlsoap.org/soap/envelope/",
	"paos": "urn:liberty:paos:2006-08",
	"wsa": "http://www.w3.org/2005/03/addressing",
	"iso": "urn:iso:std:iso-iec:24727:tech:schema",
	"dss": "urn:oasis:names:tc:dss:1.0:core:schema",
	"ecard": "http://www.bsi.bund.de/ecard/api/1.1",
	"xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
EAC_PROTOCOL = "urn:oid:1.3.162.15480.3.0.14.2"
OK = "http://www.bsi.bund.de/ecard/api/1.1/resultmajor#ok"


def local(tag):
	return tag.rsplit("}", 1)[-1]


def find(el, name):
	for e in el.iter():
		if local(e.tag) == name:
			return e
	return None


def findall(el, name):
	return [e for e in el.iter() if local(e.tag) == name]


def text_of(el, name):
	e = find(el, name)
	return None if e is None or e.text is None else e.text.strip()


def envelope(relates_to, body):
	mid = "urn:uuid:" + str(uuid.uuid4())
	xmlns = " ".join('xmlns:%s="%s"' % kv for kv in NS.items())
	return mid, (
		'<?xml version="1.0" encoding="UTF-8"?>\n'
		'<soap:Envelope %s><soap:Header>'
		'<paos:PAOS soap:mustUnderstand="1" soap:actor="http://schemas.xmlsoap.org/soap/actor/next">'
		'<paos:Version>urn:liberty:paos:2006-08</paos:Version><paos:EndpointReference>'
		'<paos:Address>http://www.projectliberty.org/2006/01/role/paos</paos:Address>'
		'<paos:MetaData><paos:ServiceType>http://www.bsi.bund.de/ecard/api/1.1/PAOS/GetNextCommand'
		'</paos:ServiceType></paos:MetaData></paos:EndpointReference></paos:PAOS>'
		'<wsa:ReplyTo><wsa:Address>http://www.projectliberty.org/2006/02/role/paos</wsa:Address>'
		'</wsa:ReplyTo>%s<wsa:MessageID>%s</wsa:MessageID></soap:Header>'
		'<soap:Body>%s</soap:Body></soap:Envelope>' % (
			xmlns, "<wsa:RelatesTo>%s</wsa:RelatesTo>" % relates_to if relates_to else "",
			mid, body)).encode()


def did_authenticate(handle, kind, inner):
	return ('<iso:DIDAuthenticate>%s<iso:DIDName>PIN</iso:DIDName>'
		'<iso:AuthenticationProtocolData Protocol="%s" xsi:type="iso:%s">%s'
		'</iso:AuthenticationProtocolData></iso:DIDAuthenticate>' % (
			handle, EAC_PROTOCOL, kind, inner))


def el(name, hexdata):
	return "<iso:%s>%s</iso:%s>" % (name, hexdata.hex().upper(), name)


class Session:
	def __init__(self):
		self.id = secrets.token_hex(16)
		self.ref = secrets.token_urlsafe(16)
		self.step = "tctoken"
		self.handle = ""
		self.slot = ""
		self.result = None
		self.failed = None


class State:
	def __init__(self, args, pki):
		self.args = args
		self.pki = pki
		self.lock = threading.Lock()
		self.sessions = {}	# PAOS SessionIdentifier -> Session
		self.by_msg = {}	# MessageID we sent -> Session
		self.results = {}	# ref -> identity (once)
		self.faults = set(args.fault)
		self.logf = open(os.path.join(args.dir, "eidserver.log"), "a")
		self.base = None
		self.desc = self.cert = None

	def log(self, msg):
		with self.lock:
			self.logf.write("%s %s\n" % (time.strftime("%H:%M:%S"), msg))
			self.logf.flush()


class Handler(http.server.BaseHTTPRequestHandler):
	protocol_version = "HTTP/1.1"
	server_version = "bb-eidserver"

	def log_message(self, fmt, *a):
		self.server.st.log("http " + (fmt % a))

	def send(self, code, body, ctype="text/plain; charset=utf-8", extra=()):
		self.send_response(code)
		self.send_header("Content-Type", ctype)
		self.send_header("Content-Length", str(len(body)))
		self.send_header("Cache-Control", "no-store")
		for k, v in extra:
			self.send_header(k, v)
		self.end_headers()
		self.wfile.write(body)

	def hang(self):
		self.server.st.log("fault hang")
		self.close_connection = True
		try:
			while self.rfile.read(1):
				pass
		except OSError:
			pass

	def do_GET(self):
		st = self.server.st
		u = urllib.parse.urlsplit(self.path)
		q = urllib.parse.parse_qs(u.query)
		if u.path == "/tctoken":
			s = Session()
			with st.lock:
				st.sessions[s.id] = s
			st.log("tctoken session %s..." % s.id[:6])
			body = ('<?xml version="1.0" encoding="UTF-8"?>\n<TCTokenType>'
				'<ServerAddress>%s/paos</ServerAddress>'
				'<SessionIdentifier>%s</SessionIdentifier>'
				'<RefreshAddress>%s/refresh?ref=%s</RefreshAddress>'
				'<CommunicationErrorAddress>%s/error?ref=%s</CommunicationErrorAddress>'
				'<Binding>urn:liberty:paos:2006-08</Binding></TCTokenType>' % (
					st.base, s.id, st.base, s.ref, st.base, s.ref)).encode()
			return self.send(200, body, "text/xml; charset=utf-8")
		if u.path in ("/refresh", "/error"):
			st.log("%s %s" % (u.path, " ".join(k for k in q if k != "ref")))
			return self.send(200, b"<!DOCTYPE html><title>bb test</title><p>done\n",
					 "text/html; charset=utf-8")
		if u.path == "/result":
			ref = (q.get("ref") or [""])[0]
			with st.lock:
				ident = st.results.pop(ref, None)
			st.log("result %s" % ("given" if ident else "none"))
			if ident is None:
				return self.send(404, b"no such result\n")
			return self.send(200, json.dumps(ident, ensure_ascii=False).encode() + b"\n",
					 "application/json")
		return self.send(404, b"not found\n")

	def do_POST(self):
		st = self.server.st
		if self.path.split("?")[0] != "/paos":
			return self.send(404, b"not found\n")
		n = int(self.headers.get("Content-Length") or 0)
		data = self.rfile.read(n)
		if "hang" in st.faults:
			return self.hang()
		if "garbage" in st.faults:
			st.log("fault garbage")
			return self.send(200, b"\x00<not-paos>garbage\xff\xfe</", "application/vnd.paos+xml")
		try:
			reply = self.paos(st, data)
		except Exception as e:	# the rig must say what went wrong
			st.log("error %s: %s" % (type(e).__name__, e))
			return self.send(500, b"eidserver error\n")
		self.send(200, reply, "application/vnd.paos+xml",
			  (("PAOS", 'ver="urn:liberty:paos:2006-08"'),))

	def paos(self, st, data):
		doc = ET.fromstring(data)
		body = find(doc, "Body")
		msg = body[0]
		kind = local(msg.tag)
		their_id = text_of(find(doc, "Header"), "MessageID")
		relates = text_of(find(doc, "Header"), "RelatesTo")
		if kind == "StartPAOS":
			sid = text_of(msg, "SessionIdentifier")
			with st.lock:
				s = st.sessions.get(sid)
			if s is None:
				raise ValueError("StartPAOS for an unknown session")
			ch = find(msg, "ConnectionHandle")
			s.slot = text_of(ch, "SlotHandle") or ""
			parts = "".join("<iso:%s>%s</iso:%s>" % (local(c.tag), (c.text or "").strip(),
								local(c.tag)) for c in ch
					if len(c) == 0)
			s.handle = "<iso:ConnectionHandle>%s</iso:ConnectionHandle>" % parts
			st.log("StartPAOS")
			return self.next(st, s, their_id,
					 '<ecard:InitializeFramework/>', "initialize")
		with st.lock:
			s = st.by_msg.get(relates)
		if s is None:
			raise ValueError("%s relates to no message of ours" % kind)
		result = text_of(msg, "ResultMajor")
		st.log("%s %s in %s" % (kind, (result or "").rsplit("#", 1)[-1], s.step))
		if result != OK:
			s.failed = text_of(msg, "ResultMinor") or result
			return self.paos_end(st, s, their_id, False)
		if s.step == "initialize":
			return self.eac1(st, s, their_id)
		if s.step == "eac1":
			return self.eac2(st, s, their_id, msg)
		if s.step in ("eac2", "eacadditional"):
			return self.after_eac2(st, s, their_id, msg)
		if s.step == "transmit":
			return self.transmitted(st, s, their_id, msg)
		raise ValueError("%s in step %s" % (kind, s.step))

	def next(self, st, s, relates, body, step):
		mid, xml = envelope(relates, body)
		with st.lock:
			st.by_msg[mid] = s
		s.step = step
		return xml

	def eac1(self, st, s, their_id):
		extra, aux = 0, ""
		if "ask-more-rights" in st.faults:
			# Age verification too, which the terminal holds but bb does not allow.
			extra = AGE_VERIFICATION
			s.aux = tlv(0x67, tlv(0x73, tlv(0x06, ID_DATE_OF_BIRTH)
					       + tlv(0x53, time.strftime("%Y%m%d", time.gmtime(
						       time.time() - 18 * 366 * 86400)).encode())))
			aux = el("AuthenticatedAuxiliaryData", s.aux)
		else:
			s.aux = b""
		inner = (el("Certificate", st.pki.dv) + el("Certificate", st.cert)
			 + el("CertificateDescription", st.desc)
			 + el("RequiredCHAT", chat(READ_DGS, extra)) + aux
			 + "<iso:TransactionInfo>bb test</iso:TransactionInfo>")
		return self.next(st, s, their_id, did_authenticate(s.handle, "EAC1InputType", inner),
				 "eac1")

	def eac2(self, st, s, their_id, msg):
		apd = find(msg, "AuthenticationProtocolData")
		s.id_picc = bytes.fromhex(text_of(apd, "IDPICC"))
		s.challenge = bytes.fromhex(text_of(apd, "Challenge") or "")
		s.card_access = bytes.fromhex(text_of(apd, "EFCardAccess") or "")
		st.log("EAC1 done: CHAT %s, CAR %s" % (
			text_of(apd, "CertificateHolderAuthorizationTemplate"),
			bytes.fromhex(text_of(apd, "CertificationAuthorityReference") or "").decode(
				"ascii", "replace")))
		# The ephemeral key for chip authentication: on the chip key's curve, which
		# EF.CardAccess names (standardized domain parameters).
		curve = ec.BrainpoolP256R1()
		for t, v in walk(s.card_access):
			try:
				items = tlv_parse(v)
			except (ValueError, IndexError):
				continue
			if (len(items) >= 2 and items[0] == (0x06, oid_der("0.4.0.127.0.7.2.2.3.2"))
			    and items[1][0] == 0x30):
				params = tlv_parse(items[1][1])
				curve = CURVES[int.from_bytes(params[1][1], "big")]()
		s.eph = ec.generate_private_key(curve)
		s.eph_pub = s.eph.public_key().public_bytes(
			serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
		comp = s.eph_pub[1:1 + (len(s.eph_pub) - 1) // 2]
		inner = "<iso:Certificates/>" + el("EphemeralPublicKey", s.eph_pub)
		if s.challenge:
			sig = plain_signature(st.pki.terminal_key,
					      s.id_picc + s.challenge + comp + s.aux)
			inner += el("Signature", sig)
		s.comp = comp
		return self.next(st, s, their_id, did_authenticate(s.handle, "EAC2InputType", inner),
				 "eac2")

	def after_eac2(self, st, s, their_id, msg):
		apd = find(msg, "AuthenticationProtocolData")
		st.log("%s: %s" % (s.step, " ".join("%s(%d)" % (local(e.tag), len((e.text or "").strip()) // 2)
						   for e in apd)))
		challenge = text_of(apd, "Challenge")
		if challenge and s.step == "eac2" and text_of(apd, "AuthenticationToken") is None:
			# No signature yet: the client asks for one over the card's challenge.
			sig = plain_signature(st.pki.terminal_key, s.id_picc + bytes.fromhex(challenge)
					      + s.comp + s.aux)
			return self.next(st, s, their_id, did_authenticate(
				s.handle, "EACAdditionalInputType", el("Signature", sig)), "eacadditional")
		if None in (text_of(apd, "EFCardSecurity"), text_of(apd, "AuthenticationToken"),
			    text_of(apd, "Nonce")):
			# E.g. the card gave no challenge in EAC1, so no signature came with EAC2.
			st.log("EAC2 output without EF.CardSecurity, token or nonce")
			s.failed = "EAC2 incomplete"
			return self.paos_end(st, s, their_id, False)
		card_security = bytes.fromhex(text_of(apd, "EFCardSecurity"))
		token = bytes.fromhex(text_of(apd, "AuthenticationToken"))
		nonce = bytes.fromhex(text_of(apd, "Nonce"))
		signer = passive_auth(st.pki, card_security)
		if signer is None:
			st.log("passive authentication: EF.CardSecurity not signed under the CSCA")
			s.failed = "passive authentication failed"
			return self.paos_end(st, s, their_id, False)
		curve, point, proto = chip_key(card_security)
		chip = ec.EllipticCurvePublicKey.from_encoded_point(curve, point)
		secret = s.eph.exchange(ec.ECDH(), chip)
		kenc, kmac = kdf(secret, nonce, 1, proto), kdf(secret, nonce, 2, proto)
		# The token is the CMAC of the terminal's ephemeral key (no padding: CMAC pads).
		want = cmac(kmac, tlv(0x7F49, tlv(0x06, proto) + tlv(0x86, s.eph_pub)))
		if want != token:
			st.log("chip authentication: the authentication token is wrong")
			s.failed = "chip authentication failed"
			return self.paos_end(st, s, their_id, False)
		st.log("chip authentication ok")
		s.signer = signer
		s.sm = SecureMessaging(kenc, kmac)
		s.dgs = {}
		apdus, s.pending = [], []
		for n in [None] + list(READ_DGS):
			if n is None:
				apdus.append(s.sm.wrap(0x00, 0xA4, 0x04, 0x0C,
						       bytes.fromhex("E80704007F00070302")))
			else:
				apdus.append(s.sm.wrap(0x00, 0xB0, 0x80 | n, 0x00, le=0))
			s.pending.append((n, s.sm.ssc))
		return self.transmit(st, s, their_id, apdus)

	def transmit(self, st, s, their_id, apdus):
		inner = "".join("<iso:InputAPDUInfo><iso:InputAPDU>%s</iso:InputAPDU></iso:InputAPDUInfo>"
				% a.hex().upper() for a in apdus)
		return self.next(st, s, their_id, "<iso:Transmit><iso:SlotHandle>%s</iso:SlotHandle>%s"
				 "</iso:Transmit>" % (s.slot, inner), "transmit")

	def transmitted(self, st, s, their_id, msg):
		outs = [bytes.fromhex((e.text or "").strip()) for e in findall(msg, "OutputAPDU")]
		if len(outs) != len(s.pending):
			raise ValueError("%d answers to %d commands" % (len(outs), len(s.pending)))
		for (what, ssc), r in zip(s.pending, outs):
			data, sw = s.sm.unwrap(r, ssc)
			if what is None:
				if sw != 0x9000:
					raise ValueError("select eID application: %04X" % sw)
			elif sw == 0x9000:
				s.dgs[what] = data
			elif sw not in (0x6A82, 0x6982):
				raise ValueError("read DG%d: %04X" % (what, sw))
		st.log("read data groups %s" % ",".join(str(n) for n in sorted(s.dgs)))
		ident = identity(s.dgs)
		ident["verified"] = {"ta": True, "ca": True, "passive_auth": "ok",
				     "document_signer": s.signer}
		with st.lock:
			st.results[s.ref] = ident
		return self.paos_end(st, s, their_id, True)

	def paos_end(self, st, s, their_id, ok):
		if ok:
			res = "<dss:Result><dss:ResultMajor>%s</dss:ResultMajor></dss:Result>" % OK
		else:
			res = ("<dss:Result><dss:ResultMajor>http://www.bsi.bund.de/ecard/api/1.1/"
			       "resultmajor#error</dss:ResultMajor><dss:ResultMinor>http://www.bsi."
			       "bund.de/ecard/api/1.1/resultminor/al/common#internalError"
			       "</dss:ResultMinor></dss:Result>")
		st.log("StartPAOSResponse %s" % ("ok" if ok else "error"))
		with st.lock:
			st.sessions.pop(s.id, None)
		return self.next(st, s, their_id,
				 '<iso:StartPAOSResponse Profile="http://www.bsi.bund.de/ecard/api/1.1">'
				 '%s</iso:StartPAOSResponse>' % res, "done")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
	daemon_threads = True
	allow_reuse_address = True


def serve(a):
	pki = Pki(a.pki)
	os.makedirs(a.dir, exist_ok=True)
	st = State(a, pki)
	srv = Server(("127.0.0.1", a.port), Handler)
	srv.st = st
	ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
	ctx.minimum_version = ssl.TLSVersion.TLSv1_2
	ctx.load_cert_chain(pki.tls_cert, pki.tls_key)
	srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
	port = srv.server_address[1]
	st.base = "https://127.0.0.1:%d" % port
	# The description names this origin (AusweisApp's same-origin check of the TC Token
	# URL and the subjectURL): made for this port and the terminal certificate signed anew.
	st.desc, st.cert = pki.for_url(st.base)
	st.log("listening on %d, faults %s" % (port, ",".join(sorted(st.faults)) or "none"))
	write_port(os.path.join(a.dir, "port"), port)
	if a.parent:
		exit_with(a.parent)
	srv.serve_forever()


def main(argv):
	import argparse
	if argv and argv[0] == "describe":
		ap = argparse.ArgumentParser(prog="eidserver.py describe")
		ap.add_argument("--pki", required=True)
		ap.add_argument("--url", required=True)
		a = ap.parse_args(argv[1:])
		describe(a.pki, a.url)
		return 0
	ap = argparse.ArgumentParser(prog="eidserver.py")
	ap.add_argument("--pki", required=True)
	ap.add_argument("--dir", required=True)
	ap.add_argument("--port", type=int, default=0)
	ap.add_argument("--fault", action="append", default=[],
			choices=("hang", "garbage", "ask-more-rights"))
	ap.add_argument("--parent", type=int)
	a = ap.parse_args(argv)
	serve(a)
	return 0


if __name__ == "__main__":
	sys.exit(main(sys.argv[1:]))
