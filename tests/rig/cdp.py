#!/usr/bin/env python3
"""cdp.py PORT EXPRESSION: evaluates EXPRESSION in the kiosk page of the Chromium whose
DevTools listen on 127.0.0.1:PORT and prints the value (JSON for non-strings). Only the
standard library: a minimal WebSocket client for one request (RFC 6455, text frames)."""
import base64
import json
import os
import socket
import struct
import sys
import urllib.request


def main():
    port, expr = sys.argv[1], sys.argv[2]
    with urllib.request.urlopen("http://127.0.0.1:%s/json/list" % port, timeout=10) as r:
        targets = json.load(r)
    page = next(t for t in targets
                if t["type"] == "page" and t["url"].startswith("http://127.0.0.1"))
    hostport, path = page["webSocketDebuggerUrl"][len("ws://"):].split("/", 1)
    host, p = hostport.rsplit(":", 1)
    s = socket.create_connection((host, int(p)), timeout=20)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n" % (path, hostport, key)).encode())
    f = s.makefile("rb")
    if b" 101 " not in f.readline():
        sys.exit("cdp.py: no WebSocket upgrade")
    while f.readline() not in (b"\r\n", b""):
        pass

    data = json.dumps({"id": 1, "method": "Runtime.evaluate",
                       "params": {"expression": expr, "returnByValue": True}}).encode()
    mask = os.urandom(4)
    n = len(data)
    hdr = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else
                           bytes([0x80 | 126]) + struct.pack(">H", n))
    s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    while True:
        msg = b""
        while True:
            b0, b1 = f.read(2)
            n = b1 & 0x7f
            if n == 126:
                n = struct.unpack(">H", f.read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", f.read(8))[0]
            msg += f.read(n)
            if b0 & 0x80:
                break
        m = json.loads(msg)
        if m.get("id") == 1:
            break
    v = m["result"]["result"].get("value")
    print(v if isinstance(v, str) else json.dumps(v))


main()
