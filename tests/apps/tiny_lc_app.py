#!/usr/bin/env python3
"""tiny_lc_app.py — a small real LC application for tests/external_lc_test.sh: an HTTP
service (standard library only) that deepedge did not start and observes.

  GET /work     burns about WORK_MS of CPU (a real request's compute), answers 200
  GET /fail     answers 500
  GET /metrics  Prometheus text: a histogram `app_request_seconds` of /work latencies
Every /work request appends its service-side latency in milliseconds to LOG (one line,
column 2; column 1 is a timestamp). The process writes its pid to PIDFILE and its port
to PORTFILE once it listens.

usage: tiny_lc_app.py PORTFILE PIDFILE LOG [WORK_MS]
"""
import http.server
import os
import sys
import threading
import time

portfile, pidfile, logpath = sys.argv[1:4]
work_ms = float(sys.argv[4]) if len(sys.argv) > 4 else 5.0
BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0]
counts = [0] * (len(BOUNDS) + 1)  # per bucket (not cumulative); the last is +Inf
total = [0, 0.0]
lock = threading.Lock()
log = open(logpath, "a", buffering=1)


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, body):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/work":
            t0 = time.perf_counter()
            x = 0
            while time.perf_counter() - t0 < work_ms / 1000.0:
                x += 1
            dt = time.perf_counter() - t0
            with lock:
                i = next((k for k, b in enumerate(BOUNDS) if dt <= b), len(BOUNDS))
                counts[i] += 1
                total[0] += 1
                total[1] += dt
                log.write("%.3f %.3f\n" % (time.time(), dt * 1000.0))
            self.reply(200, "ok\n")
        elif self.path == "/fail":
            self.reply(500, "failed\n")
        elif self.path == "/metrics":
            with lock:
                lines = ["# TYPE app_request_seconds histogram"]
                cum = 0
                for b, c in zip(BOUNDS, counts):
                    cum += c
                    lines.append('app_request_seconds_bucket{path="/work",le="%g"} %d' % (b, cum))
                lines.append('app_request_seconds_bucket{path="/work",le="+Inf"} %d' % total[0])
                lines.append("app_request_seconds_sum %.6f" % total[1])
                lines.append("app_request_seconds_count %d" % total[0])
            self.reply(200, "\n".join(lines) + "\n")
        else:
            self.reply(404, "no\n")


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(pidfile + ".tmp", "w") as f:
    f.write("%d\n" % os.getpid())
os.rename(pidfile + ".tmp", pidfile)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
