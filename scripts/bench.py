#!/usr/bin/env python3
"""Benchmarks for assume-role: wall-clock times of whole runs, as a user feels them.

Run through scripts/bench.sh, which builds the release binary and the venv. Each case runs the
binary `--runs` times after `--warmup` runs and reports min / median / p90 in milliseconds,
with the issue's target beside it. The STS cases talk to moto on loopback, started here with
the same fixture the tests use, called directly (not through the recording proxy).

Figures are for reading, not asserting: the script exits 0 whatever the numbers say, unless a
run itself fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(argv: list[str], env: dict[str, str], runs: int, warmup: int, prepare=None, ok_codes=(0,)) -> list[float]:
    times = []
    for i in range(warmup + runs):
        if prepare:
            prepare()
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        elapsed = (time.perf_counter() - start) * 1000
        if done.returncode not in ok_codes:
            sys.exit(f"bench: {' '.join(argv)} failed ({done.returncode}):\n{done.stderr.decode()}")
        if i >= warmup:
            times.append(elapsed)
    return times


def report(name: str, times: list[float], target_ms: float | None) -> dict:
    times = sorted(times)
    median = statistics.median(times)
    p90 = times[int(len(times) * 0.9) - 1] if len(times) >= 10 else times[-1]
    verdict = ""
    if target_ms is not None:
        verdict = f"target <= {target_ms:g} ms: {'met' if median <= target_ms else 'MISSED'}"
    print(f"{name:<44} min {times[0]:7.2f}  median {median:7.2f}  p90 {p90:7.2f} ms  (n={len(times)})  {verdict}")
    return {"name": name, "min_ms": times[0], "median_ms": median, "p90_ms": p90, "runs": len(times), "target_ms": target_ms}


def elf_facts(binary: str) -> dict:
    """Size, what `file` says, and how many relocations the loader (or a static PIE's own
    start-up code) applies: the entries `readelf -r` lists."""
    facts = {"size_bytes": Path(binary).stat().st_size}
    done = subprocess.run(["file", "-b", binary], capture_output=True, text=True)
    facts["file"] = done.stdout.strip() if done.returncode == 0 else "(file not installed)"
    done = subprocess.run(["readelf", "-rW", binary], capture_output=True, text=True)
    if done.returncode == 0:
        facts["relocations"] = sum(1 for line in done.stdout.splitlines() if re.match(r"[0-9a-f]{8,}\s", line))
    return facts


def session_file(home: Path, profile: str) -> Path:
    """The cached role session of `profile`: the one file a warm `env` reads besides its plan."""
    for path in sorted((home / ".cache/assume-role/sessions").rglob("*.json")):
        try:
            entry = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if entry.get("profile") == profile and entry.get("kind") == "role-session":
            return path
    sys.exit(f"bench: no cached role session of {profile} under {home}/.cache/assume-role/sessions")


def paired(pairs: list[tuple[str, list[str], dict]], runs: int, warmup: int) -> dict[str, list[float]]:
    """Runs every command of `pairs` in turn, `runs` rounds after `warmup`, so that a drift in
    the machine's speed hits each alike. Returns each one's times."""
    times: dict[str, list[float]] = {name: [] for name, _, _ in pairs}
    for i in range(warmup + runs):
        order = pairs if i % 2 == 0 else list(reversed(pairs))
        for name, argv, run_env in order:
            start = time.perf_counter()
            done = subprocess.run(argv, env=run_env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            elapsed = (time.perf_counter() - start) * 1000
            if done.returncode != 0:
                sys.exit(f"bench: {' '.join(argv)} failed ({done.returncode}):\n{done.stderr.decode()}")
            if i >= warmup:
                times[name].append(elapsed)
    return times


def startup(builds: list[tuple[str, str, str]], env: dict, in_session: dict, home: Path, runs: int, warmup: int) -> list[dict]:
    """Issue 18's start-up figures for each (label, binary, floor) build: size, `file`,
    relocations, and in one paired run warm `env` against the floor program reading the same
    session file (examples/warm_floor.rs), and `prompt` against `/bin/true`."""
    figures = []
    for label, binary, floor in builds:
        subprocess.run([binary, "env", "client"], env=env, capture_output=True, check=True)
        session = session_file(home, "client")
        floor_argv = [floor, str(session), "client", "us-east-1"]
        ours = subprocess.run([binary, "env", "client"], env=env, capture_output=True, text=True, check=True).stdout
        theirs = subprocess.run(floor_argv, capture_output=True, text=True, check=True).stdout
        if sorted(theirs.splitlines()) != sorted(ours.splitlines()):
            sys.exit(f"bench: the floor program does not print what env prints:\n{ours}\n---\n{theirs}")
        facts = elf_facts(binary)
        times = paired([
            ("floor", floor_argv, {}),
            ("env", [binary, "env", "client"], env),
            ("true", ["/bin/true"], {}),
            ("prompt", [binary, "prompt"], in_session),
        ], runs, warmup)
        med = {name: statistics.median(t) for name, t in times.items()}
        row = dict(facts, label=label, binary=binary, medians_ms=med,
                   env_over_floor=med["env"] / med["floor"], prompt_over_true=med["prompt"] / med["true"])
        print(f"\n{label}: {binary}")
        print(f"  size {facts['size_bytes'] / 1e6:.1f} MB, relocations {facts.get('relocations', '?')}")
        print(f"  file: {facts['file']}")
        print(f"  warm env {med['env']:.2f} ms / floor {med['floor']:.2f} ms = {row['env_over_floor']:.2f}x (target <= 1.5x)")
        print(f"  prompt {med['prompt']:.2f} ms / /bin/true {med['true']:.2f} ms = {row['prompt_over_true']:.2f}x (target <= 1.5x)")
        figures.append(row)
    return figures


def seed_awscli_cache(home: Path, fx: dict, binary: str, env: dict) -> None:
    """Puts our session for the `plain` profile into the AWS CLI's own cache, keyed as botocore
    keys it (SHA-1 of the sorted AssumeRole arguments), so that it answers without a network."""
    import hashlib

    out = subprocess.run([binary, "credential-process", "plain"], env=env, capture_output=True, check=True).stdout
    creds = json.loads(out)
    args = {"RoleArn": fx["client_role_arn"], "ExternalId": fx["client_external_id"]}
    name = hashlib.sha1(json.dumps(args, sort_keys=True).encode()).hexdigest()
    cache = home / ".aws/cli/cache"
    cache.mkdir(parents=True, exist_ok=True)
    response = {
        "Credentials": {k: creds[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")},
        "AssumedRoleUser": {"AssumedRoleId": "AROAEXAMPLE:bench", "Arn": f"arn:aws:sts::222222222222:assumed-role/client-admin/bench"},
    }
    (cache / f"{name}.json").write_text(json.dumps(response))


def start_fixture(python: str) -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen(
        [python, str(ROOT / "tests/cli/support/moto_fixture.py")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    line = proc.stdout.readline()
    if not line:
        sys.exit("bench: the moto fixture did not start")
    return proc, json.loads(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=str(ROOT / "target/release/assume-role"))
    parser.add_argument("--python", default=sys.executable, help="venv python with moto")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--awscli-v2", default="/usr/bin/aws", help="AWS CLI v2 (Debian's awscli) for the warm comparison")
    parser.add_argument("--awsume", help="awsumepy from a venv, for the cold comparison")
    parser.add_argument("--floor", help="examples/warm_floor built like --bin, for the start-up figures")
    parser.add_argument("--static-bin", help="the static release binary (scripts/release.sh), for the start-up figures")
    parser.add_argument("--static-floor", help="examples/warm_floor built like --static-bin")
    parser.add_argument("--startup-only", action="store_true", help="only the start-up figures (issue 18)")
    parser.add_argument("--baseline-static-bin", help="an earlier static binary, measured in the same paired run against --static-floor")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="assume-role-bench."))
    fixture, fx = start_fixture(args.python)
    try:
        home = tmp / "home"
        (home / ".aws").mkdir(parents=True)
        config = home / ".aws/config"
        credentials = home / ".aws/credentials"
        credentials.write_text(
            f"[contractor]\naws_access_key_id = {fx['contractor']['access_key_id']}\n"
            f"aws_secret_access_key = {fx['contractor']['secret_access_key']}\n"
        )
        client = (
            f"[profile client]\nrole_arn = {fx['client_role_arn']}\nsource_profile = contractor\n"
            f"external_id = {fx['client_external_id']}\nmfa_serial = {fx['mfa_serial']}\n"
            f"duration_seconds = 7200\nregion = us-east-1\n"
        )
        # The same role without MFA, for the peers: neither can be handed a code without a prompt.
        plain = (
            f"\n[profile plain]\nrole_arn = {fx['client_role_arn']}\nsource_profile = contractor\n"
            f"external_id = {fx['client_external_id']}\nregion = us-east-1\n"
        )
        config.write_text("[profile contractor]\nregion = us-east-1\n\n" + client + plain)
        big = tmp / "config-10k"
        with big.open("w") as f:
            f.write("[profile contractor]\nregion = us-east-1\n\n" + client)
            for i in range(10_000):
                f.write(
                    f"\n[profile client-{i:05}]\nrole_arn = arn:aws:iam::{200000000000 + i}:role/contractor\n"
                    f"source_profile = contractor\nexternal_id = ext-{i:05}\nmfa_serial = {fx['mfa_serial']}\nregion = eu-west-1\n"
                )
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "USER": "bench",
            "AWS_CONFIG_FILE": str(config),
            "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
            "AWS_ENDPOINT_URL": fx["endpoint"],
        }
        env_big = dict(env, AWS_CONFIG_FILE=str(big))
        binary = args.bin
        print(f"assume-role bench, {time.strftime('%Y-%m-%d %H:%M %Z')}")
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}")
        print(f"binary: {binary} ({Path(binary).stat().st_size / 1e6:.1f} MB)")
        print(f"profiles in the large config: {10_001 + 1}, {big.stat().st_size / 1e6:.1f} MB\n")
        # Codes are refused when reused within 30 s, so each cold run with MFA gets a new one.
        codes = iter(f"{i:06d}" for i in range(100000, 999999, 7))
        def cold_mfa(profile_env):
            return lambda: [binary, "env", "client", "--no-cache", "--mfa-token", next(codes)]

        def measure_argv(make_argv, run_env, prepare=None):
            times = []
            for i in range(args.warmup + args.runs):
                if prepare:
                    prepare()
                argv = make_argv()
                start = time.perf_counter()
                done = subprocess.run(argv, env=run_env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                elapsed = (time.perf_counter() - start) * 1000
                if done.returncode != 0:
                    sys.exit(f"bench: {' '.join(argv)} failed ({done.returncode}):\n{done.stderr.decode()}")
                if i >= args.warmup:
                    times.append(elapsed)
            return times

        results = {}
        def add(name, times, target=None):
            results[name] = report(name, times, target)

        in_session = dict(env, ASSUME_ROLE_PROFILE="client", AWS_CREDENTIAL_EXPIRATION="2099-01-01T00:00:00Z")
        builds = [(label, b, f) for label, b, f in [("release build", binary, args.floor),
                                                     ("static release build, baseline", args.baseline_static_bin, args.static_floor),
                                                     ("static release build", args.static_bin, args.static_floor)] if b and f]
        # Caches the session and plan the warm runs read.
        subprocess.run([binary, "env", "client", "--mfa-token", next(codes)], env=env, capture_output=True, check=True)
        startup_figures = startup(builds, env, in_session, home, args.runs, args.warmup)
        if args.startup_only:
            if args.json:
                Path(args.json).write_text(json.dumps({"startup": startup_figures}, indent=2))
            return
        print()

        add("--help", measure([binary, "--help"], env, args.runs, args.warmup), 5)
        add("env, cold: --no-cache, one AssumeRole to moto",
            measure_argv(cold_mfa(env), env), 50)
        add("credential-process, cold: --no-cache",
            measure([binary, "credential-process", "plain", "--no-cache"], env, args.runs, args.warmup), None)
        add("env, warm (cached session)", measure([binary, "env", "client"], env, args.runs, args.warmup), 5)
        add("credential-process, warm", measure([binary, "credential-process", "client"], env, args.runs, args.warmup), 5)
        add("list, 10,002 profiles", measure([binary, "list"], env_big, args.runs, args.warmup), 50)
        add("list --json, 10,002 profiles", measure([binary, "list", "--json"], env_big, args.runs, args.warmup), None)
        # Every run right after an edit of the config: the index is rebuilt from a full parse.
        add("list, 10,002 profiles, just edited",
            measure([binary, "list"], env_big, args.runs, args.warmup, prepare=lambda: os.utime(big)), None)
        add("env, warm, 10,002 profiles", measure([binary, "env", "client"], env_big, args.runs, args.warmup), 50)
        add("env, warm, 10,002 profiles, just edited (full parse)",
            measure([binary, "env", "client"], env_big, args.runs, args.warmup, prepare=lambda: os.utime(big)), None)

        # Issue 12's daily-use paths: the warm path with the audit log off and with a settings
        # file (both within the warm budget), the prompt, offline doctor and profile completion.
        add("env, warm, audit log off (ASSUME_ROLE_AUDIT=0)",
            measure([binary, "env", "client"], dict(env, ASSUME_ROLE_AUDIT="0"), args.runs, args.warmup), 5)
        settings = tmp / "settings.toml"
        settings.write_text(
            'session_name = "bench"\nduration = "1h"\nregion = "us-east-1"\nmfa_session_duration = "12h"\n'
            'browser = "default"\naudit = true\njobs = 4\nkeys_backend = "file"\n'
        )
        add("env, warm, with a settings file",
            measure([binary, "env", "client"], dict(env, ASSUME_ROLE_CONFIG=str(settings)), args.runs, args.warmup), 5)
        add("prompt (environment only)", measure([binary, "prompt"], in_session, args.runs, args.warmup), 2)
        add("doctor, offline, 10,002 profiles", measure([binary, "doctor"], env_big, max(5, args.runs // 5), 1, ok_codes=(0, 1)), 1000)
        # fish's protocol: the words typed so far, as arguments after `--`.
        add("completion of `exec client-0999`, 10,002 profiles",
            measure([binary, "--", binary, "exec", "client-0999"], dict(env_big, _ASSUME_ROLE_COMPLETE="fish"),
                    args.runs, args.warmup), None)
        add("spawning /bin/true, for scale", measure(["/bin/true"], env, args.runs, args.warmup), None)

        # The peers, side by side.
        print()
        v2 = Path(args.awscli_v2)
        if v2.exists() and b"aws-cli/2" in subprocess.run([str(v2), "--version"], capture_output=True).stdout:
            seed_awscli_cache(home, fx, binary, env)
            peer_env = {"PATH": env["PATH"], "HOME": str(home)}
            add("AWS CLI v2: configure export-credentials (its cache)",
                measure([str(v2), "configure", "export-credentials", "--profile", "plain", "--format", "process"],
                        peer_env, max(10, args.runs // 5), 2), None)
            ours = results["credential-process, warm"]["median_ms"]
            theirs = results["AWS CLI v2: configure export-credentials (its cache)"]["median_ms"]
            print(f"  -> warm credential-process is {theirs / ours:.0f}x faster than the AWS CLI v2 (target >= 100x)")
        else:
            print(f"AWS CLI v2 not found at {v2} (Debian: apt-get install awscli); warm comparison skipped")
        if args.awsume:
            peer_env = dict(env)
            add("awsume: assume the same role, --refresh (cold)",
                measure([args.awsume, "plain", "--refresh"], peer_env, max(10, args.runs // 5), 2), None)
            ours = results["env, cold: --no-cache, one AssumeRole to moto"]["median_ms"]
            theirs = results["awsume: assume the same role, --refresh (cold)"]["median_ms"]
            print(f"  -> cold env is {theirs / ours:.0f}x faster than awsume (target >= 10x)")
        else:
            print("awsume not given (--awsume PATH); cold comparison skipped")

        # moto's own cost for the same call, for scale: boto3 in a warm interpreter.
        probe = (
            "import boto3, time, statistics, sys, json\n"
            "fx = json.loads(sys.argv[1])\n"
            "s = boto3.client('sts', endpoint_url=fx['endpoint'], region_name='us-east-1',"
            " aws_access_key_id=fx['contractor']['access_key_id'], aws_secret_access_key=fx['contractor']['secret_access_key'])\n"
            "t = []\n"
            "for i in range(60):\n"
            "    a = time.perf_counter(); s.assume_role(RoleArn=fx['client_role_arn'], RoleSessionName='bench', ExternalId=fx['client_external_id']); t.append((time.perf_counter() - a) * 1000)\n"
            "print(statistics.median(t[10:]))\n"
        )
        rt = float(subprocess.run([args.python, "-c", probe, json.dumps(fx)], capture_output=True, text=True, check=True).stdout)
        print(f"\nmoto's AssumeRole round trip (boto3, warm interpreter): median {rt:.2f} ms")
        if args.json:
            Path(args.json).write_text(json.dumps({"results": list(results.values()), "startup": startup_figures, "moto_round_trip_ms": rt}, indent=2))
    finally:
        fixture.stdin.close()
        fixture.wait(timeout=10)


if __name__ == "__main__":
    main()
