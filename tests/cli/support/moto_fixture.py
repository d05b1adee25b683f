#!/usr/bin/env python3
"""A two-account AWS for the integration tests: moto, seeded, behind a recording proxy.

The Rust integration tests spawn this as `$VENV/bin/python tests/cli/support/moto_fixture.py`
with stdin and stdout piped. It:

1. starts moto in-process on 127.0.0.1 (a free port unless --port is given), with
   moto's authorization checks off;
2. seeds two accounts through moto's own API (see seed()): a contractor account
   111111111111 with IAM users and a same-account role, and a client account
   222222222222 with the roles to assume and an S3 bucket;
3. switches the checks on, so from then on requests must be signed with the
   seeded keys and are judged against the seeded identity policies;
4. starts a reverse proxy that forwards every request to moto unchanged and
   records it, so a test can assert on what the tool sent for the things moto
   does not check itself (MFA serial and code, DurationSeconds, a missing
   ExternalId, ...). `GET /__recorded` returns the records as a JSON array and
   `POST /__clear` empties them; both are answered by the proxy itself. Each
   record is {"method", "path" (without the query), "params" (query string and
   urlencoded form fields, all strings), "access_key_id" (from the SigV4
   Authorization header, or null), "status" (moto's HTTP status)};
5. prints one line of JSON describing all of that to stdout;
6. serves until stdin reaches EOF (the test process exited or dropped the pipe)
   or SIGTERM/SIGINT arrives, then stops both servers and exits 0.

Nothing else is ever written to stdout: moto's and werkzeug's logs go to stderr,
and are quiet unless MOTO_FIXTURE_VERBOSE=1.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.1"
REGION = "us-east-1"
CONTRACTOR_ACCOUNT = "111111111111"
CLIENT_ACCOUNT = "222222222222"

CLIENT_EXTERNAL_ID = "client-ext-7f3a"
SAME_ACCOUNT_EXTERNAL_ID = "ext-same-123"
BUCKET = "client-bucket"
CONTRACTOR_BUCKET = "contractor-templates"

CONTRACTOR_ARN = f"arn:aws:iam::{CONTRACTOR_ACCOUNT}:user/contractor"
MFA_SERIAL = f"arn:aws:iam::{CONTRACTOR_ACCOUNT}:mfa/contractor"
CLIENT_ROLE_ARN = f"arn:aws:iam::{CLIENT_ACCOUNT}:role/client-admin"
SECOND_ROLE_ARN = f"arn:aws:iam::{CLIENT_ACCOUNT}:role/client-second"
SAME_ACCOUNT_ROLE_ARN = f"arn:aws:iam::{CONTRACTOR_ACCOUNT}:role/same-account-ext"

VERBOSE = os.environ.get("MOTO_FIXTURE_VERBOSE") == "1"


def log(message: str) -> None:
    if VERBOSE:
        print(f"moto_fixture: {message}", file=sys.stderr, flush=True)


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


ALLOW_EVERYTHING = policy({"Effect": "Allow", "Action": "*", "Resource": "*"})


# --------------------------------------------------------------------------- moto


def start_moto(port: int) -> tuple[Any, str]:
    # Logging must be tamed before moto/werkzeug are imported and start talking.
    # werkzeug logs every request to stderr by default; with many tests that is
    # only noise. Nothing here may reach stdout, which carries our one JSON line.
    logging.basicConfig(stream=sys.stderr, level=logging.INFO if VERBOSE else logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.INFO if VERBOSE else logging.ERROR)

    from moto.server import ThreadedMotoServer

    # verbose=False: ThreadedMotoServer.start() would otherwise print() a banner
    # to stdout. Port 0 lets the OS pick a free port with no bind-then-release race.
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    host, bound_port = server.get_host_and_port()
    return server, f"http://{host}:{bound_port}"


def moto_api_post(endpoint: str, path: str, body: bytes, content_type: str) -> None:
    parsed = urllib.parse.urlsplit(endpoint)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": content_type})
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        if response.status != 200:
            raise RuntimeError(f"POST {path} -> {response.status}: {text}")
    finally:
        conn.close()


def client(service: str, endpoint: str, account: str) -> Any:
    """A boto3 client that acts on `account` while moto's checks are still off.

    moto picks the account from the x-moto-account-id header when it cannot
    derive one from the signing key; the dummy keys below are not moto keys.
    """
    import boto3
    from botocore.config import Config

    config = Config(
        region_name=REGION,
        retries={"max_attempts": 1, "mode": "standard"},
        s3={"addressing_style": "path"},
    )
    c = boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )

    def add_account_header(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account

    c.meta.events.register("before-sign.*.*", add_account_header)
    return c


def create_user_with_key(iam: Any, name: str) -> dict[str, str]:
    user = iam.create_user(UserName=name)["User"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {
        "access_key_id": key["AccessKeyId"],
        "secret_access_key": key["SecretAccessKey"],
        "arn": user["Arn"],
    }


def seed(endpoint: str) -> dict[str, Any]:
    # ---- contractor account: where the person running assume-role lives.
    iam = client("iam", endpoint, CONTRACTOR_ACCOUNT)

    contractor = create_user_with_key(iam, "contractor")
    # Once checks are on, moto evaluates identity policies on every call,
    # sts:AssumeRole included, so the contractor needs them spelled out.
    iam.put_user_policy(
        UserName="contractor",
        PolicyName="contractor-can-assume",
        PolicyDocument=policy(
            {
                "Effect": "Allow",
                "Action": ["sts:AssumeRole", "sts:GetSessionToken", "sts:GetCallerIdentity"],
                "Resource": "*",
            },
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        ),
    )

    # A valid key with no permissions at all, for denial tests.
    outsider = create_user_with_key(iam, "outsider")

    # A virtual MFA device makes the serial a real IAM object. moto never checks
    # MFA codes, so this only keeps the seeded world plausible.
    mfa = iam.create_virtual_mfa_device(VirtualMFADeviceName="contractor")["VirtualMFADevice"]
    iam.enable_mfa_device(
        UserName="contractor",
        SerialNumber=mfa["SerialNumber"],
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )
    if mfa["SerialNumber"] != MFA_SERIAL:
        raise RuntimeError(f"unexpected MFA serial {mfa['SerialNumber']}")

    # moto enforces sts:ExternalId only for a role in the caller's own account
    # whose trust policy names the exact user ARN: this role is the one place
    # where a wrong external ID really is refused.
    iam.create_role(
        RoleName="same-account-ext",
        AssumeRolePolicyDocument=policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": CONTRACTOR_ARN},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": SAME_ACCOUNT_EXTERNAL_ID}},
            }
        ),
    )
    iam.put_role_policy(
        RoleName="same-account-ext", PolicyName="everything", PolicyDocument=ALLOW_EVERYTHING
    )

    # ---- client account: the customer whose role the contractor assumes.
    iam2 = client("iam", endpoint, CLIENT_ACCOUNT)
    # The realistic cross-account trust policy. moto does not evaluate it (nor
    # the MFA condition), so tests assert on the recorded request instead.
    iam2.create_role(
        RoleName="client-admin",
        MaxSessionDuration=43200,
        AssumeRolePolicyDocument=policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{CONTRACTOR_ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"sts:ExternalId": CLIENT_EXTERNAL_ID},
                    "Bool": {"aws:MultiFactorAuthPresent": "true"},
                },
            }
        ),
    )
    iam2.put_role_policy(
        RoleName="client-admin", PolicyName="everything", PolicyDocument=ALLOW_EVERYTHING
    )
    # Trusts sessions of client-admin. The obvious form, Principal
    # {"AWS": CLIENT_ROLE_ARN}, is what real AWS accepts, but moto compares the
    # caller's assumed-role *session* ARN to the principal literally and denies
    # the chained call. "*" narrowed by aws:PrincipalArn means the same on AWS
    # (a role session's PrincipalArn is the role ARN); moto skips ArnEquals.
    iam2.create_role(
        RoleName="client-second",
        AssumeRolePolicyDocument=policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "sts:AssumeRole",
                "Condition": {"ArnEquals": {"aws:PrincipalArn": CLIENT_ROLE_ARN}},
            }
        ),
    )
    iam2.put_role_policy(
        RoleName="client-second", PolicyName="everything", PolicyDocument=ALLOW_EVERYTHING
    )

    s3 = client("s3", endpoint, CLIENT_ACCOUNT)
    s3.create_bucket(Bucket=BUCKET)  # us-east-1 takes no LocationConstraint
    s3.put_object(Bucket=BUCKET, Key="hello.txt", Body=b"hello from the client account\n")

    # The contractor's own bucket, where `onboard publish` puts templates.
    client("s3", endpoint, CONTRACTOR_ACCOUNT).create_bucket(Bucket=CONTRACTOR_BUCKET)

    return {"contractor": contractor, "outsider": outsider}


# -------------------------------------------------------------------------- proxy

# Per-hop headers describe one connection, not the request, so they are not
# passed on (RFC 9110 section 7.6.1); SDKs leave them out of SigV4 signatures.
# Everything else goes through as sent: the Rust SDK signs Content-Length and
# Expect when present, so dropping either would break the signature.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}


class Recorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = []

    def add(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._records.append(record)

    def snapshot(self) -> bytes:
        with self._lock:
            return json.dumps(self._records).encode()

    def clear(self) -> None:
        with self._lock:
            self._records.clear()


def parse_params(query: str, body: bytes, content_type: str) -> dict[str, str]:
    """Form fields of an AWS query-protocol request: the query string, then the body."""
    params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        text = body.decode("utf-8", "replace")
        params.update(urllib.parse.parse_qsl(text, keep_blank_values=True))
    return params


def access_key_of(authorization: str) -> str | None:
    # "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sts/aws4_request, ..."
    marker = "Credential="
    start = authorization.find(marker)
    if start < 0:
        return None
    return authorization[start + len(marker) :].split("/", 1)[0]


def make_proxy_handler(upstream_host: str, upstream_port: int, recorder: Recorder) -> type:
    class ProxyHandler(BaseHTTPRequestHandler):
        # HTTP/1.1 so that SDK clients can keep their connections alive; this
        # obliges every response to carry a Content-Length.
        protocol_version = "HTTP/1.1"
        server_version = "moto-fixture-proxy"

        def log_message(self, format: str, *args: Any) -> None:
            if VERBOSE:
                sys.stderr.write("proxy: " + (format % args) + "\n")

        def _read_body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";", 1)[0].strip(), 16)
                    if size == 0:
                        # Discard trailers up to the blank line.
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _handle(self) -> None:
            body = self._read_body()
            split = urllib.parse.urlsplit(self.path)

            if split.path == "/__recorded" and self.command == "GET":
                return self._reply(200, recorder.snapshot())
            if split.path == "/__clear" and self.command == "POST":
                recorder.clear()
                return self._reply(200, b'{"status": "ok"}')

            record: dict[str, Any] = {
                "method": self.command,
                "path": split.path,
                "params": parse_params(
                    split.query, body, self.headers.get("Content-Type", "")
                ),
                "access_key_id": access_key_of(self.headers.get("Authorization", "")),
                "status": None,
            }
            recorder.add(record)

            # A fresh upstream connection per request keeps this simple; on
            # loopback it costs well under a millisecond.
            conn = http.client.HTTPConnection(upstream_host, upstream_port, timeout=60)
            try:
                # skip_host/skip_accept_encoding: send exactly the client's
                # headers. Host in particular is covered by the SigV4 signature.
                conn.putrequest(
                    self.command, self.path, skip_host=True, skip_accept_encoding=True
                )
                for name, value in self.headers.items():
                    if name.lower() not in HOP_BY_HOP:
                        conn.putheader(name, value)
                # A chunked body was reassembled above; moto gets it whole.
                if "Content-Length" not in self.headers and body:
                    conn.putheader("Content-Length", str(len(body)))
                # http.client skips the upstream's interim 100 Continue itself;
                # the client's Expect was already answered by this handler.
                conn.endheaders(body if body else None)
                response = conn.getresponse()
                payload = response.read()
                status, reason, headers = response.status, response.reason, response.getheaders()
            except OSError as error:
                record["status"] = 502
                message = json.dumps({"proxy_error": str(error)}).encode()
                return self._reply(502, message)
            finally:
                conn.close()

            record["status"] = status
            # send_response_only: moto's own Server and Date headers are relayed
            # below; send_response would add a second copy of each.
            self.log_request(status)
            self.send_response_only(status, reason)
            upstream_length = None
            for name, value in headers:
                lower = name.lower()
                if lower == "content-length":
                    upstream_length = value
                    continue
                if lower in HOP_BY_HOP:
                    continue
                self.send_header(name, value)
            # A HEAD answer describes the body a GET would have had; keep moto's
            # length for it. Otherwise the length is that of what we relay.
            if self.command == "HEAD" and upstream_length is not None:
                self.send_header("Content-Length", upstream_length)
            else:
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _handle

    return ProxyHandler


class ProxyServer(ThreadingHTTPServer):
    daemon_threads = True  # open keep-alive connections must not block exit
    allow_reuse_address = True


def start_proxy(port: int, moto_endpoint: str, recorder: Recorder) -> tuple[ProxyServer, str]:
    upstream = urllib.parse.urlsplit(moto_endpoint)
    handler = make_proxy_handler(upstream.hostname, upstream.port, recorder)
    server = ProxyServer((HOST, port), handler)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="proxy", daemon=True
    ).start()
    return server, f"http://{HOST}:{server.server_address[1]}"


# --------------------------------------------------------------------------- main


class Stop(Exception):
    pass


def on_signal(signum: int, _frame: Any) -> None:
    raise Stop(signum)


def stop_all(servers: list[Any]) -> None:
    def stop(server: Any) -> None:
        try:
            if hasattr(server, "server_close"):  # the proxy
                server.shutdown()
                server.server_close()
            else:  # ThreadedMotoServer
                server.stop()
        except Exception as error:  # half-dead already; we are exiting anyway
            log(f"error while stopping: {error}")

    # serve_forever() notices a shutdown only at its next 0.5 s poll, so stop
    # the servers side by side, and never let a hung one keep a test waiting.
    stoppers = [threading.Thread(target=stop, args=(s,), daemon=True) for s in servers]
    for stopper in stoppers:
        stopper.start()
    deadline = time.monotonic() + 3
    for stopper in stoppers:
        stopper.join(timeout=max(0.0, deadline - time.monotonic()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="moto's port (default: a free one)")
    parser.add_argument(
        "--proxy-port", type=int, default=0, help="the recording proxy's port (default: a free one)"
    )
    parser.add_argument(
        "--checks-off",
        action="store_true",
        help="leave moto's signature and policy checks off: its GetSessionToken returns fixed keys"
        " that its own checks reject, so MFA-session flows can only be exercised this way",
    )
    args = parser.parse_args()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    started = time.monotonic()
    servers: list[Any] = []
    try:
        moto, endpoint = start_moto(args.port)
        servers.append(moto)
        users = seed(endpoint)
        # From now on moto checks signatures and identity policies. A form
        # content type here makes moto answer 500, hence text/plain.
        if not args.checks_off:
            moto_api_post(endpoint, "/moto-api/reset-auth", b"0", "text/plain")

        recorder = Recorder()
        proxy, proxy_endpoint = start_proxy(args.proxy_port, endpoint, recorder)
        servers.insert(0, proxy)
        log(f"ready in {time.monotonic() - started:.2f}s: moto {endpoint}, proxy {proxy_endpoint}")

        info = {
            "endpoint": endpoint,
            "proxy": proxy_endpoint,
            "region": REGION,
            "contractor": users["contractor"],
            "outsider": users["outsider"],
            "client_role_arn": CLIENT_ROLE_ARN,
            "client_external_id": CLIENT_EXTERNAL_ID,
            "second_role_arn": SECOND_ROLE_ARN,
            "same_account_role_arn": SAME_ACCOUNT_ROLE_ARN,
            "same_account_external_id": SAME_ACCOUNT_EXTERNAL_ID,
            "mfa_serial": MFA_SERIAL,
            "bucket": BUCKET,
            "contractor_bucket": CONTRACTOR_BUCKET,
        }
        sys.stdout.write(json.dumps(info) + "\n")
        sys.stdout.flush()

        # Our lifetime is the parent's: it holds the write end of our stdin, and
        # when it exits, however it exits, the pipe closes and read() returns.
        while sys.stdin.buffer.read(65536):
            pass
        log("stdin closed; stopping")
    except Stop as stop:
        log(f"signal {stop.args[0]}; stopping")
    except BrokenPipeError:
        pass  # the parent went away before reading our line
    finally:
        # Ignore a second signal while shutting down, so cleanup runs to the end.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop_all(servers)
    return 0


if __name__ == "__main__":
    status = main()
    # Tearing down moto's large module graph at interpreter exit takes 0.3-2 s,
    # which a test waiting for us would pay every time. The servers are stopped
    # and there is nothing left to flush but stdio.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
