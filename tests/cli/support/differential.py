#!/usr/bin/env python3
"""Differential test driver: the same configs resolved by botocore and by assume-role.

The README promises AWS CLI compatibility ("the same ~/.aws/config"). This measures it
(issue 8). From a fixed seed it generates configs (a config file, a credentials file and
an environment), each with a chain of 1-4 role profiles and one or two unusual features,
recorded per case. Every role profile is then resolved twice against the same moto, with
its checks off (we compare what is *sent*, not whether it would be accepted):

- botocore: `boto3.Session(profile_name=p).client("sts").get_caller_identity()`, with MFA
  codes from a fixed prompter;
- assume-role: `assume-role credential-process p --no-cache` (with `--mfa-token`), with a
  fresh cache directory.

The recording proxy of `moto_fixture.py` sees the STS calls of each run. They are compared
hop by hop: Action, RoleArn, ExternalId, DurationSeconds, SerialNumber, whether a TokenCode
was sent, RoleSessionName (only when botocore sent a configured one: its default name
differs on purpose), and which credentials signed each hop (a long-term access key ID, or
"the credentials issued by call N" for temporary ones, found through moto's model data).
The outcome is compared too (both succeed, or which side failed and with what message).

Intended differences are normalised, and counted, rather than reported:
- the MFA session route: from long-term keys, a first hop with `mfa_serial` and at most 1 h
  is `GetSessionToken(serial, code)` then `AssumeRole` without the code; botocore sends the
  code to `AssumeRole`. The two are treated as one `AssumeRole(serial, code)`.

Each disagreement is put in a class named after the case's features and what differed, so
that a class points at its cause. Output: one JSON report on stdout (see `main`). With
`--repro-dir DIR` one minimal example per class is saved under DIR/<class>/.

Usage: differential.py --bin PATH [--cases 300] [--seed 8] [--repro-dir DIR] [--summary]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CODE = "123456"
STS_ACTIONS = ("AssumeRole", "GetSessionToken")
# moto's GetSessionToken always answers with this documentation-example key.
SESSION_TOKEN_KEY = "AKIAIOSFODNN7EXAMPLE"
RUN_LIMIT_SECONDS = 20


# ---------------------------------------------------------------------------- generator


class Gen:
    """Builds one case: a chain of role profiles over one source, then its odd features."""

    def __init__(self, rng: random.Random, case: int) -> None:
        self.rng = rng
        self.case = case
        self.keys = 0
        self.features: list[str] = []

    def key(self, prefix: str = "AKIA") -> tuple[str, str]:
        self.keys += 1
        kid = f"{prefix}DF{self.case:06d}{self.keys:08d}"
        secret = f"diffSecret{self.case:06d}x{self.keys:03d}".ljust(40, "s")
        return kid, secret


def role_arn(case: int, hop: int) -> str:
    # A different account and role per hop, so that an ARN names its hop.
    return f"arn:aws:iam::2{case:05d}0000{hop:02d}:role/diff-{case}-{hop}"


MFA_SERIAL = "arn:aws:iam::111111111111:mfa/contractor"

# Odd features; each case gets at most two of them, applied to one spot.
SYNTAX_FEATURES = [
    "comment_hash",
    "comment_semicolon",
    "inline_comment_hash",
    "inline_comment_semicolon",
    "section_padding",
    "section_quoted",
    "key_case",
    "colon_delimiter",
    "indented_first_key",
    "duplicate_section",
    "duplicate_key",
    "crlf",
    "value_whitespace",
]
SOURCE_KINDS = [
    "keys_credentials",
    "keys_config",
    "keys_split_id_config",
    "keys_split_id_credentials",
    "credential_source_env",
    "source_with_credential_source",
    "default_credentials",
    "default_config_plain",
    "default_config_profile",
    "default_config_both",
    "security_token_file",
    "security_token_env",
    "source_keys_and_role",
]
ODD_DURATIONS = ["+3600", "03600", "3_600", " 3600", "3600.0", "1h", "90m", "600", "50000"]


def generate(case: int, seed: int) -> dict[str, Any]:
    rng = random.Random(f"{seed}:{case}")
    g = Gen(rng, case)
    config: dict[str, list[list[str]]] = {}  # section header -> [[key, value], ...]
    creds: dict[str, list[list[str]]] = {}
    env: dict[str, str] = {}
    order_config: list[str] = []
    order_creds: list[str] = []

    def section(store: dict, order: list, header: str) -> list[list[str]]:
        if header not in store:
            store[header] = []
            order.append(header)
        return store[header]

    # ---- the source of the chain
    # Half the configs start from plain keys in the credentials file, so that their odd
    # feature is the only unusual thing about them; the others vary the source instead.
    kind = "keys_credentials" if rng.random() < 0.5 else rng.choice(SOURCE_KINDS[1:])
    g.features.append(f"source:{kind}")
    source_ref: tuple[str, str]  # ("source_profile", name) or ("credential_source", value)
    if kind == "keys_credentials":
        kid, secret = g.key()
        section(creds, order_creds, "base").extend(
            [["aws_access_key_id", kid], ["aws_secret_access_key", secret]]
        )
        source_ref = ("source_profile", "base")
    elif kind == "keys_config":
        kid, secret = g.key()
        section(config, order_config, "profile base").extend(
            [["aws_access_key_id", kid], ["aws_secret_access_key", secret]]
        )
        source_ref = ("source_profile", "base")
    elif kind in ("keys_split_id_config", "keys_split_id_credentials"):
        kid, secret = g.key()
        in_config = kind == "keys_split_id_config"
        section(config, order_config, "profile base").append(
            ["aws_access_key_id", kid] if in_config else ["aws_secret_access_key", secret]
        )
        section(creds, order_creds, "base").append(
            ["aws_secret_access_key", secret] if in_config else ["aws_access_key_id", kid]
        )
        source_ref = ("source_profile", "base")
    elif kind == "credential_source_env":
        kid, secret = g.key()
        env.update({"AWS_ACCESS_KEY_ID": kid, "AWS_SECRET_ACCESS_KEY": secret})
        source_ref = ("credential_source", "Environment")
    elif kind == "source_with_credential_source":
        kid, secret = g.key()
        env.update({"AWS_ACCESS_KEY_ID": kid, "AWS_SECRET_ACCESS_KEY": secret})
        section(config, order_config, "profile base").append(["credential_source", "Environment"])
        source_ref = ("source_profile", "base")
    elif kind == "default_credentials":
        kid, secret = g.key()
        section(creds, order_creds, "default").extend(
            [["aws_access_key_id", kid], ["aws_secret_access_key", secret]]
        )
        source_ref = ("source_profile", "default")
    elif kind in ("default_config_plain", "default_config_profile", "default_config_both"):
        headers = {
            "default_config_plain": ["default"],
            "default_config_profile": ["profile default"],
            "default_config_both": rng.sample(["default", "profile default"], 2),
        }[kind]
        for header in headers:
            kid, secret = g.key()
            section(config, order_config, header).extend(
                [["aws_access_key_id", kid], ["aws_secret_access_key", secret]]
            )
        source_ref = ("source_profile", "default")
    elif kind == "security_token_file":
        kid, secret = g.key("ASIA")
        section(creds, order_creds, "base").extend(
            [
                ["aws_access_key_id", kid],
                ["aws_secret_access_key", secret],
                ["aws_security_token", f"FwoGZXIvYXdzEDiffToken{case:06d}"],
            ]
        )
        source_ref = ("source_profile", "base")
    elif kind == "security_token_env":
        kid, secret = g.key("ASIA")
        env.update(
            {
                "AWS_ACCESS_KEY_ID": kid,
                "AWS_SECRET_ACCESS_KEY": secret,
                "AWS_SECURITY_TOKEN": f"FwoGZXIvYXdzEDiffToken{case:06d}",
            }
        )
        source_ref = ("credential_source", "Environment")
    else:  # source_keys_and_role: a source with keys *and* its own role_arn
        kid, secret = g.key()
        section(creds, order_creds, "base").extend(
            [["aws_access_key_id", kid], ["aws_secret_access_key", secret]]
        )
        section(config, order_config, "profile base").extend(
            [["role_arn", role_arn(case, 99)], ["source_profile", "base"]]
        )
        source_ref = ("source_profile", "base")

    # ---- the chain of role profiles
    hops = rng.choice([1, 1, 2, 2, 3, 4])
    names = [f"r{case}h{h}" for h in range(hops)]
    mfa_hops: list[int] = []
    if rng.random() < 0.3:
        mfa_hops = [0] if rng.random() < 0.7 or hops == 1 else [0, rng.randrange(1, hops)]
    mfa_via = rng.choice(["flag", "flag", "process"]) if mfa_hops else None
    for h, name in enumerate(names):
        body = section(config, order_config, f"profile {name}")
        body.append(["role_arn", role_arn(case, h)])
        if h == 0:
            body.append(list(source_ref))
        else:
            body.append(["source_profile", names[h - 1]])
        if rng.random() < 0.4:
            body.append(["external_id", f"ext-{case}-{h}"])
        if rng.random() < 0.35:
            body.append(["role_session_name", f"diff-session-{case}-{h}"])
        if rng.random() < 0.35:
            # Chained hops are capped at 1 h by STS; stay legal unless odd durations are on.
            cap = 43200 if h == 0 else 3600
            body.append(["duration_seconds", str(rng.choice([900, 1800, 3600, 7200, cap]))])
            if int(body[-1][1]) > cap:
                body[-1][1] = str(cap)
        if h in mfa_hops:
            body.append(["mfa_serial", MFA_SERIAL])
            if mfa_via == "process":
                # A new code on every run, like an authenticator a moment later: a chain that
                # needs two codes from one device gets its next one (AWS refuses a code twice).
                body.append(["mfa_process", "printf '%06d' $(( $(date +%s%N) % 1000000 ))"])
        if rng.random() < 0.2:
            body.append(["region", rng.choice(["eu-west-1", "us-east-1", "ap-southeast-2"])])
    if len(mfa_hops) > 1:
        g.features.append("mfa_two_hops")
    if mfa_hops:
        g.features.append(f"mfa_via_{mfa_via}")

    # ---- odd features: none (a third of the cases), one, or two
    # One odd feature per config over plain keys (two in one config of five), and mostly none
    # over an unusual source: a disagreement then points at its cause.
    if kind == "keys_credentials" and len(mfa_hops) < 2:
        odd = 2 if rng.random() < 0.2 else 1
    else:
        odd = 1 if rng.random() < 0.25 else 0
    chosen = rng.sample(SYNTAX_FEATURES + ["odd_duration"], odd)
    target = f"profile {rng.choice(names)}"
    text_transforms: list[str] = []
    dup_section: tuple[str, list[list[str]]] | None = None
    headers_override: dict[str, str] = {}
    line_prefix: dict[tuple[str, int], str] = {}
    for feature in chosen:
        g.features.append(feature)
        body = config[target]
        if feature == "odd_duration":
            value = rng.choice(ODD_DURATIONS)
            g.features[-1] = f"odd_duration:{value.strip()}"
            body[:] = [kv for kv in body if kv[0] != "duration_seconds"]
            body.append(["duration_seconds", value])
        elif feature in ("comment_hash", "comment_semicolon"):
            mark = "#" if feature == "comment_hash" else ";"
            body.insert(rng.randrange(len(body) + 1), [f"{mark} a note about this role", None])
        elif feature in ("inline_comment_hash", "inline_comment_semicolon"):
            mark = "#" if feature == "inline_comment_hash" else ";"
            i = rng.randrange(len(body))
            if body[i][1] is not None:
                body[i][1] = f"{body[i][1]} {mark} note"
                g.features[-1] = f"{feature}:{body[i][0]}"
        elif feature == "section_padding":
            headers_override[target] = "[ " + target.replace(" ", "  ") + " ]"
        elif feature == "section_quoted":
            headers_override[target] = f'[profile "{target.split()[1]}"]'
        elif feature == "key_case":
            i = rng.randrange(len(body))
            if body[i][1] is not None:
                body[i][0] = body[i][0].title()
                g.features[-1] = f"key_case:{body[i][0]}"
        elif feature == "colon_delimiter":
            i = rng.randrange(len(body))
            line_prefix[(target, i)] = "colon"
        elif feature == "indented_first_key":
            line_prefix[(target, 0)] = "indent"
        elif feature == "duplicate_section":
            # The second half of the keys moves to a second section of the same name.
            half = max(1, len(body) // 2)
            dup_section = (target, body[half:])
            del body[half:]
        elif feature == "duplicate_key":
            i = rng.randrange(len(body))
            if body[i][1] is not None:
                k, v = body[i]
                if k == "role_arn":
                    first = role_arn(case, 98)
                elif k == "source_profile":
                    first = "nonexistent"
                elif k == "duration_seconds":
                    first = "900"
                else:
                    first = f"{v}-first"
                body.insert(i, [k, first])
                g.features[-1] = f"duplicate_key:{k}"
        elif feature == "value_whitespace":
            i = rng.randrange(len(body))
            if body[i][1] is not None:
                body[i][1] = f"\t{body[i][1]}  "
                g.features[-1] = f"value_whitespace:{body[i][0]}"
        elif feature == "crlf":
            text_transforms.append("crlf")

    def render(store: dict, order: list, is_config: bool) -> str:
        lines: list[str] = []
        for header in order:
            lines.append(headers_override.get(header, f"[{header}]"))
            for i, (k, v) in enumerate(store[header]):
                lines.append(render_line(header, i, k, v))
            lines.append("")
            if is_config and dup_section and dup_section[0] == header:
                pass
        if is_config and dup_section:
            lines.append(f"[{dup_section[0]}]")
            lines.extend(f"{k} = {v}" if v is not None else k for k, v in dup_section[1])
            lines.append("")
        return "\n".join(lines)

    def render_line(header: str, i: int, k: str, v: str | None) -> str:
        if v is None:
            return k  # a comment line
        style = line_prefix.get((header, i))
        if style == "colon":
            return f"{k}: {v}"
        if style == "indent":
            return f"  {k} = {v}"
        return f"{k} = {v}"

    config_text = render(config, order_config, True)
    creds_text = render(creds, order_creds, False)
    if "crlf" in text_transforms:
        config_text = config_text.replace("\n", "\r\n")
        creds_text = creds_text.replace("\n", "\r\n")
    return {
        "case": case,
        "features": g.features,
        "config": config_text,
        "credentials": creds_text,
        "env": env,
        "profiles": names,
        "mfa": bool(mfa_hops),
    }


# ------------------------------------------------------------------------------- fixture


def http(method: str, url: str, body: bytes | None = None, content_type: str = "") -> bytes:
    request = urllib.request.Request(url, data=body, method=method)
    if content_type:
        request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


class Moto:
    def __init__(self) -> None:
        self.child = subprocess.Popen(
            [sys.executable, str(HERE / "moto_fixture.py"), "--checks-off"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.child.stdout is not None
        info = json.loads(self.child.stdout.readline())
        self.endpoint: str = info["endpoint"]
        self.proxy: str = info["proxy"]

    def reset(self) -> None:
        # Wipes moto's state, including the seeded users: harmless with checks off, and it
        # keeps the model data small enough to read after every run.
        http("POST", f"{self.endpoint}/moto-api/reset", b"", "text/plain")
        http("POST", f"{self.proxy}/__clear", b"")

    def recorded(self) -> list[dict[str, Any]]:
        return json.loads(http("GET", f"{self.proxy}/__recorded"))

    def issued_keys(self) -> dict[str, str]:
        """Temporary access key ID -> the RoleArn of the AssumeRole call that issued it."""
        data = json.loads(http("GET", f"{self.endpoint}/moto-api/data.json"))
        roles = data.get("sts", {}).get("AssumedRole", [])
        return {r["access_key_id"]: r["role_arn"] for r in roles}

    def stop(self) -> None:
        assert self.child.stdin is not None
        self.child.stdin.close()
        try:
            self.child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.child.kill()


def calls_of(moto: Moto) -> list[dict[str, Any]]:
    """The run's STS credential calls, each with a symbolic signer."""
    issued = moto.issued_keys()
    calls: list[dict[str, Any]] = []
    for record in moto.recorded():
        params = record["params"]
        action = params.get("Action")
        if action not in STS_ACTIONS:
            continue
        key = record.get("access_key_id") or ""
        if key == SESSION_TOKEN_KEY:
            signer = next(
                (f"call{j}" for j in range(len(calls) - 1, -1, -1)
                 if calls[j]["Action"] == "GetSessionToken"),
                "session-token?",
            )
        elif key in issued:
            arn = issued[key]
            signer = next(
                (f"call{j}" for j in range(len(calls) - 1, -1, -1)
                 if calls[j].get("RoleArn") == arn),
                f"assumed:{arn}",
            )
        else:
            signer = f"key:{key}"
        calls.append(
            {
                "Action": action,
                "RoleArn": params.get("RoleArn"),
                "ExternalId": params.get("ExternalId"),
                "DurationSeconds": params.get("DurationSeconds"),
                "SerialNumber": params.get("SerialNumber"),
                "TokenCode": "sent" if "TokenCode" in params else None,
                "RoleSessionName": params.get("RoleSessionName"),
                "signer": signer,
            }
        )
    return calls


# ------------------------------------------------------------------------------- runners


def base_env(moto: Moto, case_dir: Path) -> dict[str, str]:
    return {
        "HOME": str(case_dir / "home"),
        "USER": "tester",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_CONFIG_FILE": str(case_dir / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(case_dir / "credentials"),
        "AWS_ENDPOINT_URL": moto.proxy,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def one_line(text: str) -> str:
    return " ".join(text.split())[:400]


_LOADER: Any = None


def run_botocore(moto: Moto, env: dict[str, str], profile: str) -> dict[str, Any]:
    import boto3
    import botocore.session
    from botocore.config import Config

    global _LOADER
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    error = None
    try:
        core = botocore.session.Session(profile=profile)
        # A fresh session per run (it reads the files and the environment when created), but
        # one loader for all: reading botocore's service models again costs 0.1 s a run.
        if _LOADER is None:
            _LOADER = core.get_component("data_loader")
        core.register_component("data_loader", _LOADER)
        session = boto3.Session(botocore_session=core)
        provider = session._session.get_component("credential_provider").get_provider(
            "assume-role"
        )
        # The assume-role provider asks for codes through this callable (getpass by default).
        provider._prompter = lambda _prompt: CODE
        config = Config(retries={"max_attempts": 1, "mode": "standard"})
        session.client("sts", config=config).get_caller_identity()
    except Exception as e:  # any failure is an outcome to compare
        error = one_line(f"{type(e).__name__}: {e}")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return {"error": error, "calls": calls_of(moto)}


def run_ours(
    moto: Moto, binary: str, env: dict[str, str], case: dict[str, Any], profile: str, cache: Path
) -> dict[str, Any]:
    args = [binary, "credential-process", profile, "--no-cache"]
    if case["mfa"] and "mfa_via_flag" in case["features"]:
        args += ["--mfa-token", CODE]
    run_env = dict(env, ASSUME_ROLE_CACHE_DIR=str(cache))
    error = None
    try:
        done = subprocess.run(
            args,
            env=run_env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=RUN_LIMIT_SECONDS,
            start_new_session=True,  # no controlling terminal: a prompt must fail, not wait
        )
        if done.returncode != 0:
            error = f"exit {done.returncode}: " + one_line(done.stderr.decode("utf-8", "replace"))
    except subprocess.TimeoutExpired:
        error = f"timeout after {RUN_LIMIT_SECONDS}s"
    return {"error": error, "calls": calls_of(moto)}


# ---------------------------------------------------------------------------- comparison


def normalise_mfa_session(ours: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bool]:
    """[GetSessionToken(serial, code), AssumeRole(no serial) signed by it] -> [AssumeRole(serial, code)]."""
    if len(ours) < 2 or ours[0]["Action"] != "GetSessionToken":
        return ours, False
    gst, first = ours[0], ours[1]
    if first["Action"] != "AssumeRole" or first["signer"] != "call0" or first["SerialNumber"]:
        return ours, False
    merged = dict(first, SerialNumber=gst["SerialNumber"], TokenCode=gst["TokenCode"])
    merged["signer"] = gst["signer"]
    rest = []
    for call in ours[2:]:
        call = dict(call)
        m = re.fullmatch(r"call(\d+)", call["signer"])
        if m:
            n = int(m.group(1))
            call["signer"] = "call0" if n <= 1 else f"call{n - 1}"
        rest.append(call)
    return [merged, *rest], True


FIELDS = ["Action", "RoleArn", "ExternalId", "DurationSeconds", "SerialNumber", "TokenCode", "signer"]


def differences(boto: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    """What differs, as short stable labels (the class key is built from them)."""
    if boto["error"] and ours["error"]:
        return []  # both refuse: agreement on the outcome
    if ours["error"] and not boto["error"]:
        return ["ours errors"]
    if boto["error"] and not ours["error"]:
        return ["botocore errors"]
    b, o = boto["calls"], ours["calls"]
    diffs: list[str] = []
    if len(b) != len(o):
        diffs.append("number of calls")
    for hop, (x, y) in enumerate(zip(b, o)):
        for field in FIELDS:
            if x[field] != y[field]:
                diffs.append(field)
        name = x["RoleSessionName"] or ""
        if not name.startswith("botocore-session-") and name != (y["RoleSessionName"] or ""):
            diffs.append("RoleSessionName")
    return sorted(set(diffs))


# Features that every config has in some form; they name a class only when nothing else does.
COMMON = ("source:keys_credentials", "mfa_via_flag", "mfa_via_process")


def cause_of(features: list[str], rates: dict[str, float]) -> str:
    """The feature most likely behind a disagreement: the one that disagrees most often overall.

    Each config has one source and at most two odd features, so this is almost always the
    feature that differs; the example kept for each class is the config with fewest features.
    """
    candidates = [f for f in features if f not in COMMON] or features
    return max(candidates, key=lambda f: (rates.get(f, 0.0), f))


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:120]


# ------------------------------------------------------------------------------------ main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True, help="the assume-role binary")
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--case", type=int, help="run only this case number")
    parser.add_argument("--repro-dir", help="save one example per class here")
    parser.add_argument("--summary", action="store_true", help="a readable summary on stderr")
    parser.add_argument("--dump", action="store_true", help="print the generated cases and exit")
    args = parser.parse_args()

    numbers = [args.case] if args.case is not None else list(range(args.cases))
    cases = [generate(n, args.seed) for n in numbers]
    if args.dump:
        json.dump(cases, sys.stdout, indent=1)
        return 0

    started = time.monotonic()
    moto = Moto()
    work = Path(tempfile.mkdtemp(prefix="differential-"))
    results: list[dict[str, Any]] = []
    mfa_normalised_cases = set()
    try:
        for case in cases:
            case_dir = work / f"case{case['case']}"
            (case_dir / "home").mkdir(parents=True)
            (case_dir / "config").write_bytes(case["config"].encode())
            (case_dir / "credentials").write_bytes(case["credentials"].encode())
            env = dict(base_env(moto, case_dir), **case["env"])
            for i, profile in enumerate(case["profiles"]):
                moto.reset()
                boto = run_botocore(moto, env, profile)
                moto.reset()
                ours = run_ours(moto, args.bin, env, case, profile, case_dir / f"cache{i}")
                normalised, changed = normalise_mfa_session(ours["calls"])
                if changed:
                    mfa_normalised_cases.add(case["case"])
                ours_cmp = dict(ours, calls=normalised)
                diffs = differences(boto, ours_cmp)
                results.append(
                    {
                        "case": case["case"],
                        "profile": profile,
                        "hops": i + 1,
                        "agree": not diffs,
                        "diffs": diffs,
                        "both_error": bool(boto["error"] and ours["error"]),
                        "botocore": boto,
                        "ours": ours,
                    }
                )
            shutil.rmtree(case_dir, ignore_errors=True)
    finally:
        moto.stop()
        shutil.rmtree(work, ignore_errors=True)

    by_case = {c["case"]: c for c in cases}
    seen: dict[str, list[int]] = {}
    for r in results:
        for f in by_case[r["case"]]["features"]:
            counts = seen.setdefault(f, [0, 0])
            counts[0] += 1
            counts[1] += not r["agree"]
    rates = {f: bad / total for f, (total, bad) in seen.items()}
    classes: dict[str, dict[str, Any]] = {}
    for r in results:
        if r["agree"]:
            continue
        case = by_case[r["case"]]
        r["class"] = f"{cause_of(case['features'], rates)} => {', '.join(r['diffs'])}"
        entry = classes.setdefault(r["class"], {"count": 0, "cases": [], "example": None})
        entry["count"] += 1
        entry["cases"].append(r["case"])
        size = len(case["config"]) + len(case["credentials"]) + 200 * r["hops"]
        size += 1000 * len(case["features"])
        if entry["example"] is None or size < entry["example"]["size"]:
            entry["example"] = {
                "size": size,
                "case": r["case"],
                "features": case["features"],
                "profile": r["profile"],
                "config": case["config"],
                "credentials": case["credentials"],
                "env": case["env"],
                "mfa_token_flag": "mfa_via_flag" in case["features"],
                "botocore": r["botocore"],
                "ours": r["ours"],
            }
    agreed = sum(r["agree"] for r in results)
    report = {
        "seed": args.seed,
        "configs": len(cases),
        "hop_runs": len(results),
        "agreed": agreed,
        "agreement_rate": agreed / len(results) if results else 1.0,
        "both_error": sum(r["both_error"] for r in results),
        "mfa_session_normalised_configs": len(mfa_normalised_cases),
        "seconds": round(time.monotonic() - started, 1),
        "classes": dict(sorted(classes.items(), key=lambda kv: -kv[1]["count"])),
    }
    if args.repro_dir:
        save_repros(Path(args.repro_dir), report)
    if args.summary:
        print_summary(report)
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")
    return 0


def save_repros(root: Path, report: dict[str, Any]) -> None:
    for name, entry in report["classes"].items():
        ex = entry["example"]
        d = root / slug(name)
        d.mkdir(parents=True, exist_ok=True)
        (d / "config").write_bytes(ex["config"].encode())
        (d / "credentials").write_bytes(ex["credentials"].encode())
        flag = f" --mfa-token {CODE}" if ex["mfa_token_flag"] else ""
        exports = "".join(f"export {k}={v}\n" for k, v in ex["env"].items())
        (d / "run.sh").write_text(
            "#!/bin/sh\n# Reproduces one disagreement; point AWS_ENDPOINT_URL at an STS emulator.\n"
            'cd "$(dirname "$0")"\n'
            'export AWS_CONFIG_FILE="$PWD/config" AWS_SHARED_CREDENTIALS_FILE="$PWD/credentials"\n'
            + exports
            + f"assume-role credential-process {ex['profile']} --no-cache{flag}\n"
        )
        (d / "details.json").write_text(
            json.dumps({"class": name, "count": entry["count"], **ex}, indent=1)
        )


def print_summary(report: dict[str, Any]) -> None:
    out = sys.stderr
    print(
        f"differential: {report['configs']} configs, {report['hop_runs']} hop-runs,"
        f" {report['agreed']} agree ({100 * report['agreement_rate']:.1f}%),"
        f" {report['both_error']} where both refuse;"
        f" MFA session route normalised in {report['mfa_session_normalised_configs']} configs;"
        f" {report['seconds']}s",
        file=out,
    )
    for name, entry in report["classes"].items():
        print(f"  {entry['count']:4}  {name}", file=out)


if __name__ == "__main__":
    sys.exit(main())
