#!/usr/bin/env python3
"""bench/notify-partner.py: a local partner for bench/notify.sh.

Listens on 127.0.0.1:PORT, answers every POST with 200 (as a partner
answers $PatientNotification) and appends "<epoch seconds> <messageId>" per
request to LOGFILE, the time taken when the body has been read.  Usage:
notify-partner.py PORT LOGFILE.  Threaded, so a burst is not serialised,
and listening with a backlog of 128 so a burst of connections is not
dropped.
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, LOG = int(sys.argv[1]), sys.argv[2]
out = open(LOG, "a", buffering=1)


class Partner(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if 0 < n < 10_000_000 else b""
        t = time.time()
        mid = "-"
        try:
            b = json.loads(body)
            for e in b.get("entry", []):
                r = e.get("resource", {})
                if r.get("resourceType") == "Parameters":
                    for p in r.get("parameter", []):
                        if p.get("name") == "messageId":
                            mid = p.get("valueString", "-")
        except ValueError:
            pass
        out.write("%.6f %s\n" % (t, mid))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    # A listen backlog of a real server's size: with Python's default of 5
    # a burst of new connections overflows it and the kernel drops SYNs,
    # which the sender retries one second later -- a delay of this script,
    # not of the registry.
    request_queue_size = 128


Server(("127.0.0.1", PORT), Partner).serve_forever()
