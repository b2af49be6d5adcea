#!/usr/bin/python3
"""The /metrics exposition of a real `logclf serve`, read by the Prometheus project's own Python parser
(Debian's python3-prometheus-client): every family it exposes parses, with the types and histogram rules
Prometheus requires, after requests of several kinds.

Usage: metrics_exposition_test.py LOGCLF_BINARY   (exit 77: skipped, the parser is not installed)
"""
import json
import re
import subprocess
import sys
import urllib.error
import urllib.request

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    print("metrics_exposition: SKIPPED: python3-prometheus-client is not installed (scripts/setup.sh installs it)")
    sys.exit(77)

server = subprocess.Popen([sys.argv[1], "serve", "--port", "0"], stderr=subprocess.PIPE, text=True)
try:
    port = None
    for line in server.stderr:
        m = re.search(r"serving on http://127\.0\.0\.1:(\d+)", line)
        if m:
            port = int(m.group(1))
            break
    assert port, "the server did not start"
    base = f"http://127.0.0.1:{port}"

    def post(path, body, content_type="application/json"):
        request = urllib.request.Request(base + path, data=body.encode(), headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(request) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    assert post("/v1/classify", json.dumps({"logs": [{"log_message": "User User1 logged in."}]})) == 200
    assert post("/v1/classify/json", json.dumps([{"log": "Disk usage at 97% on /var"}, {"x": 1}])) == 200
    assert post("/v1/classify/ndjson", '{"message": "Backup completed successfully."}\n', "application/x-ndjson") == 200
    assert post("/v1/classify", "not json") == 400
    assert post("/nowhere", "") == 404
    with urllib.request.urlopen(base + "/metrics") as r:
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers["Content-Type"]
        text = r.read().decode()

    families = {f.name: f for f in text_string_to_metric_families(text)}
    expected = {
        "logclf_http_requests": "counter",
        "logclf_http_request_duration_seconds": "histogram",
        "logclf_http_errors": "counter",
        "logclf_lines": "counter",
        "logclf_lines_by_stage": "counter",
        "process_cpu_seconds": "counter",
        "process_open_fds": "gauge",
        "process_max_fds": "gauge",
        "process_virtual_memory_bytes": "gauge",
        "process_resident_memory_bytes": "gauge",
        "process_start_time_seconds": "gauge",
        "logclf_build_info": "gauge",
    }
    for name, kind in expected.items():
        assert name in families, f"{name} missing; families: {sorted(families)}"
        assert families[name].type == kind, f"{name} is a {families[name].type}, not a {kind}"
    # Histograms: buckets cumulative and +Inf equal to the count, per path.
    by_path = {}
    for s in families["logclf_http_request_duration_seconds"].samples:
        by_path.setdefault(s.labels["path"], []).append(s)
    assert by_path, "no request latencies"
    for path, samples in by_path.items():
        buckets = [s for s in samples if s.name.endswith("_bucket")]
        counts = [s.value for s in buckets]
        assert counts == sorted(counts), f"{path}: buckets not cumulative"
        count = next(s.value for s in samples if s.name.endswith("_count"))
        inf = next(s.value for s in buckets if s.labels["le"] == "+Inf")
        assert inf == count, f"{path}: +Inf {inf} != count {count}"
    statuses = {(s.labels["path"], s.labels["status"]) for s in families["logclf_http_requests"].samples}
    for expected_pair in [("/v1/classify", "200"), ("/v1/classify", "400"), ("/v1/classify/json", "200"), ("other", "404")]:
        assert expected_pair in statuses, f"{expected_pair} not counted: {sorted(statuses)}"
    lines = sum(s.value for s in families["logclf_lines"].samples)
    assert lines == 3, f"{lines} lines counted, 3 classified (the bad record is not)"
    build = families["logclf_build_info"].samples[0]
    assert build.value == 1 and build.labels["version"], build
    print(f"metrics_exposition: {len(families)} families parsed by prometheus_client, all as expected")
finally:
    server.terminate()
    server.wait()
