#!/usr/bin/env python3
"""Connection flood and slowloris against `logclf serve` on loopback, bounded and self-stopping.

One address (127.0.0.1) opens ATTEMPTS connections; those the server keeps trickle a request head one
byte every 2 s (slowloris). Meanwhile another address (127.0.0.2) sends GET /health ROUNDS times, and the
script prints its latencies: what a second client sees while the first tries to take the server.

Usage: scripts/bench-flood.py [ATTEMPTS (default 5000)] [SECONDS (default 20)]
Environment: LOGCLF (default build/bin/logclf), SERVE_ARGS (more options for logclf serve).
Needs a file-descriptor limit above ATTEMPTS (ulimit -n).
"""
import os
import re
import shlex
import socket
import statistics
import subprocess
import sys
import time

attempts = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 20
binary = os.environ.get("LOGCLF", "build/bin/logclf")
server = subprocess.Popen([binary, "serve", "--port", "0", *shlex.split(os.environ.get("SERVE_ARGS", ""))],
                          stderr=subprocess.PIPE, text=True)
try:
    port = None
    for line in server.stderr:
        m = re.search(r"serving on http://127\.0\.0\.1:(\d+)", line)
        if m:
            port = int(m.group(1))
            break
    if port is None:
        sys.exit("bench-flood: the server did not start")

    held, refused = [], 0
    for _ in range(attempts):
        s = socket.socket()
        s.setblocking(True)
        try:
            s.connect(("127.0.0.1", port))
            held.append(s)
        except OSError:
            refused += 1
            s.close()
    # The server answers 429 and closes what is over its per-client cap: keep only what it kept.
    time.sleep(0.5)
    kept = []
    for s in held:
        s.setblocking(False)
        try:
            alive = False  # closed, or answered (429) and closed
            s.recv(4096)
        except BlockingIOError:
            alive = True
        except OSError:
            pass
        if alive:
            kept.append(s)
        else:
            s.close()
    print(f"127.0.0.1: {attempts} connection attempts, {len(kept)} kept open by the server, trickling a head")

    latencies, failures, trickled = [], 0, 0
    request = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    head = b"GET /health HTTP/1.1\r\nX-Slow: " + b"a" * 1000
    end = time.monotonic() + seconds
    next_trickle = 0.0
    while time.monotonic() < end:
        now = time.monotonic()
        if now >= next_trickle:  # one byte on every kept connection
            for s in kept:
                try:
                    s.send(head[trickled % len(head):trickled % len(head) + 1])
                except OSError:
                    pass
            trickled += 1
            next_trickle = now + 2
        t0 = time.monotonic()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5, source_address=("127.0.0.2", 0)) as c:
                c.sendall(request)
                reply = c.recv(4096)
                if not reply.startswith(b"HTTP/1.1 200"):
                    failures += 1
                else:
                    latencies.append((time.monotonic() - t0) * 1000)
        except OSError:
            failures += 1
        time.sleep(0.05)
    closed = 0
    for s in kept:
        try:
            s.setblocking(False)
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        s.close()
    if latencies:
        latencies.sort()
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(f"127.0.0.2: {len(latencies)} requests served, {failures} failed; latency median "
              f"{statistics.median(latencies):.2f} ms, p99 {p99:.2f} ms, max {latencies[-1]:.2f} ms")
    else:
        print(f"127.0.0.2: no request served, {failures} failed")
    print(f"slowloris connections closed by the server by the end: {closed} of {len(kept)}")
    sys.exit(1 if failures or not latencies else 0)
finally:
    server.terminate()
    server.wait()
