#!/usr/bin/env python3
"""Benchmark of `exec --server`: how fast the endpoint answers from memory, also while a refresh
is in flight, and how many STS calls a long run costs.

    ASSUME_ROLE_TEST_PYTHON=.venv/bin/python cargo build
    .venv/bin/python scripts/bench-server.py [--binary target/debug/assume-role] [--life 30]

A loopback STS stub issues sessions that live `--life` seconds and takes `--sts-delay` seconds
to answer AssumeRole, so that each refresh is in flight for that long. The child (this script
again, with `--child`) sends requests to the endpoint, one after another on one keep-alive
connection as an SDK does, for two lifetimes and a little more, and records each latency and
the key it was given. Reported:
  - the first 10,000 requests: median and p99 (targets 1 ms and 5 ms);
  - the requests made while an AssumeRole was in flight: median and p99;
  - STS calls per refresh (refreshes are counted by the distinct keys the child was served).

Figures are for reading: the script exits 0 whatever they are, unless a run fails.
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(seconds: float, out: str) -> None:
    url = urllib.parse.urlsplit(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
    token = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
    conn = http.client.HTTPConnection(url.hostname, url.port)
    samples = []  # (monotonic start, latency ms, key)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        start = time.monotonic()
        t0 = time.perf_counter()
        conn.request("GET", url.path, headers={"Authorization": token})
        response = conn.getresponse()
        body = response.read()
        latency = (time.perf_counter() - t0) * 1000
        if response.status != 200:
            sys.exit(f"bench child: status {response.status}: {body[:200]!r}")
        samples.append((start, latency, json.loads(body)["AccessKeyId"]))
    Path(out).write_text(json.dumps(samples))


class Sts(http.server.BaseHTTPRequestHandler):
    life = 30.0
    delay = 2.0
    calls: list[tuple[float, float]] = []  # AssumeRole (start, end), monotonic
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        action = urllib.parse.parse_qs(body).get("Action", [""])[0]
        start = time.monotonic()
        if action != "AssumeRole":
            self.reply(400, "<ErrorResponse><Error><Code>InvalidAction</Code><Message>no</Message></Error></ErrorResponse>")
            return
        time.sleep(self.delay)
        with self.lock:
            n = len(self.calls) + 1
            self.calls.append((start, time.monotonic()))
        expires = (datetime.now(timezone.utc) + timedelta(seconds=self.life)).strftime("%Y-%m-%dT%H:%M:%SZ")
        key = f"ASIABENCH{n:011d}"
        self.reply(200, (
            '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>'
            f"<AccessKeyId>{key}</AccessKeyId><SecretAccessKey>bench-secret-{n}</SecretAccessKey>"
            f"<SessionToken>bench-token-{n}</SessionToken><Expiration>{expires}</Expiration></Credentials>"
            "<AssumedRoleUser><Arn>arn:aws:sts::222222222222:assumed-role/r/bench</Arn><AssumedRoleId>AROAEXAMPLE:bench</AssumedRoleId></AssumedRoleUser>"
            "</AssumeRoleResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleResponse>"
        ))

    def reply(self, status: int, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def stats(name: str, latencies: list[float], targets: tuple[float, float] | None = None) -> dict:
    latencies = sorted(latencies)
    median = statistics.median(latencies)
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    verdict = ""
    if targets:
        met = median <= targets[0] and p99 <= targets[1]
        verdict = f"targets median <= {targets[0]:g} ms, p99 <= {targets[1]:g} ms: {'met' if met else 'MISSED'}"
    print(f"{name:<46} n={len(latencies):<7} median {median:6.3f} ms  p99 {p99:6.3f} ms  max {latencies[-1]:7.3f} ms  {verdict}")
    return {"name": name, "n": len(latencies), "median_ms": median, "p99_ms": p99, "max_ms": latencies[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    parser.add_argument("--binary", default=str(target / "debug/assume-role"))
    parser.add_argument("--life", type=float, default=30.0, help="session lifetime the stub issues (s)")
    parser.add_argument("--sts-delay", type=float, default=2.0, help="how long each AssumeRole takes (s)")
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--child", nargs=2, metavar=("SECONDS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(float(args.child[0]), args.child[1])
        return

    Sts.life, Sts.delay = args.life, args.sts_delay
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sts)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        (home / ".aws").mkdir()
        (home / ".aws/config").write_text(
            "[profile bench]\nrole_arn = arn:aws:iam::222222222222:role/r\nsource_profile = base\n"
            "role_session_name = bench\nregion = eu-west-1\n"
        )
        (home / ".aws/credentials").write_text(
            "[base]\naws_access_key_id = AKIABENCHEXAMPLE0001\naws_secret_access_key = bench-long-term\n"
        )
        env = {
            "PATH": os.environ.get("PATH", ""), "HOME": str(home), "USER": "bench",
            "AWS_CONFIG_FILE": str(home / ".aws/config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws/credentials"),
            "ASSUME_ROLE_CACHE_DIR": str(home / "cache"),
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{server.server_address[1]}",
        }
        seconds = 2 * args.life + 2
        out = home / "samples.json"
        print(f"bench: {seconds:g} s of sequential requests, sessions of {args.life:g} s, AssumeRole taking {args.sts_delay:g} s ({args.binary})")
        done = subprocess.run(
            [args.binary, "exec", "bench", "--server", "--", sys.executable, __file__, "--child", str(seconds), str(out)],
            env=env, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        if done.returncode != 0:
            sys.exit(f"bench: the run failed ({done.returncode}):\n{done.stderr}")
        samples = json.loads(out.read_text())
    server.shutdown()

    results = [stats("first 10,000 requests", [s[1] for s in samples[:10_000]], (1, 5))]
    refreshes = Sts.calls[1:]
    in_flight = [s[1] for s in samples if any(a <= s[0] <= b for a, b in refreshes)]
    if in_flight:
        results.append(stats("requests while AssumeRole was in flight", in_flight, (1, 5)))
    results.append(stats("all requests", [s[1] for s in samples]))
    keys = len({s[2] for s in samples})
    served_refreshes = keys - 1
    per_refresh = (len(Sts.calls) - 1) / served_refreshes if served_refreshes else float("nan")
    print(f"STS AssumeRole calls: {len(Sts.calls)} (1 up front + {len(Sts.calls) - 1}) for {len(samples)} endpoint requests; "
          f"refreshes served: {served_refreshes}; STS calls per refresh: {per_refresh:g}")
    if args.json:
        Path(args.json).write_text(json.dumps({"latency": results, "sts_calls": len(Sts.calls), "requests": len(samples),
                                               "refreshes": served_refreshes, "sts_calls_per_refresh": per_refresh}, indent=2))


if __name__ == "__main__":
    main()
