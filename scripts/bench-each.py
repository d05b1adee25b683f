#!/usr/bin/env python3
"""Benchmark of `each`: N profiles against a loopback STS, `each -j J` side by side with the
sequential shell loop it replaces, every run cold (a fresh cache).

    cargo build            # a debug build is fine for the ratio; say which you measured
    python3 scripts/bench-each.py [--binary target/debug/assume-role] [--profiles 50] [--jobs 8]

A loopback STS stub (stdlib only, a thread per connection) answers AssumeRole after
`--sts-delay` seconds (default 0.1, a network round trip and STS's own time). Reported, as the
median of `--runs` runs each:
  - one cold run:        assume-role exec p-01 -- true
  - the shell loop:      for p in p-01 … p-N; do assume-role exec $p -- true; done
  - each:                assume-role each 'p-*' -j J -- true
and the figures that matter: loop / each (the speed-up), and each / (ceil(N/J) × one cold run),
which is about 1 when `each` costs what its rounds of parallel cold runs cost.

Figures are for reading: the script exits 0 whatever they are, unless a run fails.
"""

from __future__ import annotations

import argparse
import http.server
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Sts(http.server.BaseHTTPRequestHandler):
    delay = 0.1
    count = 0
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with Sts.lock:
            Sts.count += 1
            n = Sts.count
        time.sleep(Sts.delay)
        expires = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = (
            '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>'
            f"<Credentials><AccessKeyId>ASIABENCH{n:011d}</AccessKeyId><SecretAccessKey>bench-secret-{n}"
            f"</SecretAccessKey><SessionToken>bench-token-{n}</SessionToken><Expiration>{expires}"
            "</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::222222222222:assumed-role/r/b"
            "</Arn><AssumedRoleId>AROAEXAMPLE:b</AssumedRoleId></AssumedRoleUser></AssumeRoleResult>"
            "<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleResponse>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def timed(cmd: list[str], env: dict[str, str], cache: Path) -> float:
    shutil.rmtree(cache, ignore_errors=True)
    start = time.perf_counter()
    result = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True)
    took = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"bench-each: {' '.join(cmd[:4])}… failed:\n{result.stderr.decode()[-2000:]}")
    return took


def main() -> None:
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=f"{target}/debug/assume-role")
    parser.add_argument("--profiles", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--sts-delay", type=float, default=0.1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    binary = str(Path(args.binary).resolve())

    Sts.delay = args.sts_delay
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sts)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        (home / ".aws").mkdir(parents=True)
        names = [f"p-{i:02d}" for i in range(1, args.profiles + 1)]
        (home / ".aws/config").write_text(
            "".join(
                f"[profile {p}]\nrole_arn = arn:aws:iam::222222222222:role/{p}\n"
                f"source_profile = contractor\nrole_session_name = {p}\nregion = eu-west-1\n\n"
                for p in names
            )
        )
        (home / ".aws/credentials").write_text(
            "[contractor]\naws_access_key_id = AKIABENCHEXAMPLE0001\n"
            "aws_secret_access_key = bench-long-term-secret\n"
        )
        cache = Path(tmp) / "cache"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "USER": "bench",
            "ASSUME_ROLE_CACHE_DIR": str(cache),
            "AWS_CONFIG_FILE": str(home / ".aws/config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws/credentials"),
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{server.server_address[1]}",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        loop = f'for p in {" ".join(names)}; do "$0" exec "$p" -- true || exit 1; done'
        runs = {
            "one cold run": [binary, "exec", names[0], "--", "true"],
            "shell loop": ["sh", "-c", loop, binary],
            f"each -j {args.jobs}": [binary, "each", "p-*", "-j", str(args.jobs), "--", "true"],
        }
        medians = {}
        for label, cmd in runs.items():
            samples = [timed(cmd, env, cache) for _ in range(args.runs)]
            medians[label] = statistics.median(samples)
            print(f"{label:>14}: {medians[label]:7.3f} s  (runs: {', '.join(f'{s:.3f}' for s in samples)})")

    one, loop_s, each_s = medians.values()
    rounds = math.ceil(args.profiles / args.jobs)
    print(f"{args.profiles} profiles, -j {args.jobs}, STS delay {args.sts_delay:.3f} s, {os.cpu_count()} CPUs")
    print(f"speed-up, shell loop / each:            {loop_s / each_s:5.2f}x")
    print(f"each / (ceil({args.profiles}/{args.jobs}) = {rounds} × one cold run): {each_s / (rounds * one):5.2f}")
    print(f"STS requests answered: {Sts.count}")


if __name__ == "__main__":
    main()
