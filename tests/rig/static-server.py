#!/usr/bin/python3
"""A static HTTP server for the browser rig's tests and the screen bench's baseline:
serves DIR on 127.0.0.1 with the headers the screen server sends (CSP default-src 'self',
no-store, nosniff, same-origin referrers), writes its port to PORTFILE once it listens.

    static-server.py DIR PORTFILE [--token T] [--parent PID]

--token T: like `bb-form serve`, GET /?token=T sets the cookie bb=T (HttpOnly,
SameSite=Strict) and answers 303 to /; any other request without that cookie is 403.
--parent PID: exit when that process is gone.
"""

import argparse
import http.server
import os
import sys

from rigserver import exit_with, write_port

HEADERS = {
	"Cache-Control": "no-store",
	"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy": "same-origin",
}


def main():
	p = argparse.ArgumentParser()
	p.add_argument("dir")
	p.add_argument("portfile")
	p.add_argument("--token")
	p.add_argument("--parent", type=int)
	a = p.parse_args()

	class Handler(http.server.SimpleHTTPRequestHandler):
		def __init__(self, *args, **kw):
			super().__init__(*args, directory=a.dir, **kw)

		def end_headers(self):
			for k, v in HEADERS.items():
				self.send_header(k, v)
			super().end_headers()

		def log_message(self, fmt, *args):
			pass

		def do_GET(self):
			if a.token is not None:
				if self.path == "/?token=" + a.token:
					self.send_response(303)
					self.send_header("Set-Cookie", "bb=%s; HttpOnly; SameSite=Strict; Path=/"
					    % a.token)
					self.send_header("Location", "/")
					self.send_header("Content-Length", "0")
					self.end_headers()
					return
				if "bb=" + a.token not in (self.headers.get("Cookie") or "").split("; "):
					self.send_error(403)
					return
			super().do_GET()

	s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
	s.daemon_threads = True
	write_port(a.portfile, s.server_address[1])
	if a.parent:
		exit_with(a.parent)
	s.serve_forever()


if __name__ == "__main__":
	sys.exit(main())
