#!/usr/bin/env python3
"""A loopback fake of AWS IAM Identity Center: the SSO OIDC service and the SSO portal.

moto implements neither `sso-oidc` nor `sso`, so the integration tests run this instead.
It speaks the wire format the AWS SDKs use (restJson1; checked against the Smithy-generated
Rust SDK, aws-sdk-ssooidc and aws-sdk-sso, and botocore's service models) and checks what the
real services check: the client secret, the grant types a client registered, the redirect
URI, the PKCE verifier against the S256 challenge, a pending or too eagerly polled device
code, single-use codes, expired and logged-out tokens.

Usage:  python sso_fake.py CONFIG_JSON      (CONFIG_JSON is a JSON string, may be '{}')
        python sso_fake.py --self-test      (needs boto3; exercises the fake and
                                             follow_browser.py end to end)

It binds 127.0.0.1 on a free port, prints ONE line of JSON to stdout,
`{"endpoint": "http://127.0.0.1:PORT"}`, and serves until its stdin reaches EOF or
SIGTERM/SIGINT arrives. Nothing else is ever written to stdout; each request's operation
(never a token, code or secret) is logged to stderr unless the config says "log": false.

CONFIG_JSON fields (all optional):
  accounts                    [{"accountId", "accountName", "emailAddress",
                                "roles": [{"roleName", "credentials": {"accessKeyId",
                                "secretAccessKey", "sessionToken" (optional)}}]}]
  access_token_ttl            seconds, default 28800
  refresh_token_ttl           seconds, default 90 days
  registration_ttl            seconds, default 90 days (clientSecretExpiresAt)
  device_approve_after_polls  default 1: a device code is approved after that many CreateToken
                              polls answered AuthorizationPending (0: approved at once)
  device_interval             seconds (integer), default 1
  device_expires_in           seconds (integer), default 600
  device_page_approves        default true: GET /device?user_code=X (verificationUriComplete,
                              what a browser opens) approves that code at once
  role_credentials_ttl        seconds, default 3600 (roleCredentials.expiration)
  accounts_page_size          default 2 (ListAccounts pages; clients must follow nextToken)
  roles_page_size             default 1 (ListAccountRoles pages)
  log                         default true: one line per request on stderr

Routes (one endpoint serves both services; point AWS_ENDPOINT_URL_SSO_OIDC and
AWS_ENDPOINT_URL_SSO, or AWS_ENDPOINT_URL, at it):
  POST /client/register          RegisterClient
  POST /device_authorization     StartDeviceAuthorization
  POST /token                    CreateToken (device_code, authorization_code, refresh_token)
  GET  /authorize                the browser's authorize page: 302 to redirect_uri?code=&state=
  GET  /device?user_code=X       the device verification page (approves X, see above)
  GET  /federation/credentials   GetRoleCredentials
  GET  /assignment/accounts      ListAccounts
  GET  /assignment/roles         ListAccountRoles
  POST /logout                   Logout
  GET  /_fake/state              counters, last redirect URIs, clients, valid tokens, polls
  POST /_fake/expire_access_tokens | /_fake/revoke_refresh_tokens | /_fake/approve
       /_fake/set_accounts (body: the accounts list, or {"accounts": [...]})
       /_fake/expire_registrations | /_fake/expire_device_codes | /_fake/reset_counters

Errors are what the services send: HTTP 400 (401 for InvalidClientException and the
portal's UnauthorizedException, 404 ResourceNotFoundException) with the header
`x-amzn-errortype: <ExceptionName>` (which both the Rust SDK and botocore take the error
code from) and a JSON body: OIDC `{"error": "<snake_case>", "error_description": "..."}`,
portal `{"message": "..."}`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.1"
DAY = 24 * 3600

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
AUTH_CODE_GRANT = "authorization_code"
REFRESH_GRANT = "refresh_token"
KNOWN_GRANTS = {DEVICE_GRANT, AUTH_CODE_GRANT, REFRESH_GRANT}
# A client registered without grantTypes (the AWS CLI's device-flow registration) gets these.
DEFAULT_GRANTS = [DEVICE_GRANT, REFRESH_GRANT]
GRANT_KEYS = {DEVICE_GRANT: "device_code", AUTH_CODE_GRANT: "authorization_code", REFRESH_GRANT: "refresh_token"}

COUNTERS = [
    "register_client",
    "start_device_authorization",
    "create_token:device_code",
    "create_token:authorization_code",
    "create_token:refresh_token",
    "create_token:other",
    "authorize",
    "device_page",
    "get_role_credentials",
    "list_accounts",
    "list_account_roles",
    "logout",
]

# OIDC exceptions: (HTTP status, the OAuth `error` value).
OIDC_ERRORS = {
    "AccessDeniedException": (400, "access_denied"),
    "AuthorizationPendingException": (400, "authorization_pending"),
    "ExpiredTokenException": (400, "expired_token"),
    "InternalServerException": (500, "server_error"),
    "InvalidClientException": (401, "invalid_client"),
    "InvalidClientMetadataException": (400, "invalid_client_metadata"),
    "InvalidGrantException": (400, "invalid_grant"),
    "InvalidRedirectUriException": (400, "invalid_redirect_uri"),
    "InvalidRequestException": (400, "invalid_request"),
    "InvalidScopeException": (400, "invalid_scope"),
    "SlowDownException": (400, "slow_down"),
    "UnauthorizedClientException": (400, "unauthorized_client"),
    "UnsupportedGrantTypeException": (400, "unsupported_grant_type"),
}
PORTAL_ERRORS = {
    "InvalidRequestException": 400,
    "UnauthorizedException": 401,
    "ResourceNotFoundException": 404,
    "TooManyRequestsException": 429,
}

# RFC 7636: a verifier is 43-128 unreserved characters; an S256 challenge is 43 base64url ones.
VERIFIER_RE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
CHALLENGE_RE = re.compile(r"^[A-Za-z0-9\-_]{43}$")
LOOPBACK_CALLBACK_PATH = "/oauth/callback"


class ApiError(Exception):
    def __init__(self, name: str, description: str) -> None:
        super().__init__(description)
        self.name = name
        self.description = description


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def rand(n: int = 32) -> str:
    return secrets.token_urlsafe(n)


# --------------------------------------------------------------------------- state


class Fake:
    """Everything the services remember; every method runs under self.lock."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.lock = threading.Lock()
        self.access_token_ttl = int(config.get("access_token_ttl", 8 * 3600))
        self.refresh_token_ttl = int(config.get("refresh_token_ttl", 90 * DAY))
        self.registration_ttl = int(config.get("registration_ttl", 90 * DAY))
        self.approve_after = int(config.get("device_approve_after_polls", 1))
        self.device_interval = int(config.get("device_interval", 1))
        self.device_expires_in = int(config.get("device_expires_in", 600))
        self.device_page_approves = bool(config.get("device_page_approves", True))
        self.role_credentials_ttl = int(config.get("role_credentials_ttl", 3600))
        self.accounts_page = int(config.get("accounts_page_size", 2))
        self.roles_page = int(config.get("roles_page_size", 1))
        self.accounts = validate_accounts(config.get("accounts", []))
        self.endpoint = ""
        self.clients: dict[str, dict[str, Any]] = {}
        self.devices: dict[str, dict[str, Any]] = {}  # device code -> authorization
        self.codes: dict[str, dict[str, Any]] = {}  # authorization code -> binding
        self.access: dict[str, dict[str, Any]] = {}  # access token -> {client, family, expires}
        self.refresh: dict[str, dict[str, Any]] = {}  # refresh token -> {client, family, expires, used}
        self.logged_out: set[str] = set()  # token families (sign-in sessions) ended by Logout
        self.reset_counters()

    def reset_counters(self) -> None:
        self.counters = {name: 0 for name in COUNTERS}
        self.errors: dict[str, int] = {}
        self.last_authorize_redirect_uri: str | None = None
        self.last_create_token_redirect_uri: str | None = None
        self.last_authorize: dict[str, Any] | None = None
        self.start_urls: list[str] = []
        self.issuer_urls: list[str] = []

    # -- helpers

    def count(self, name: str) -> None:
        self.counters[name] = self.counters.get(name, 0) + 1

    def client_for(self, body: dict[str, Any]) -> dict[str, Any]:
        """The client named by clientId, authenticated by clientSecret."""
        client_id = body.get("clientId")
        secret = body.get("clientSecret")
        if not isinstance(client_id, str) or not client_id:
            raise ApiError("InvalidRequestException", "clientId is required")
        if not isinstance(secret, str) or not secret:
            raise ApiError("InvalidRequestException", "clientSecret is required")
        client = self.clients.get(client_id)
        if client is None or not secrets.compare_digest(client["secret"], secret):
            raise ApiError("InvalidClientException", "Invalid client credentials")
        if client["secret_expires_at"] <= time.time():
            raise ApiError("InvalidClientException", "The client registration has expired")
        return client

    def issue(self, client: dict[str, Any], family: str, with_refresh: bool) -> dict[str, Any]:
        now = time.time()
        access = "aoa" + rand(48)
        self.access[access] = {
            "client": client["clientId"],
            "family": family,
            "expires": now + self.access_token_ttl,
        }
        answer: dict[str, Any] = {
            "accessToken": access,
            "tokenType": "Bearer",
            "expiresIn": self.access_token_ttl,
        }
        if with_refresh:
            refresh = "aor" + rand(48)
            self.refresh[refresh] = {
                "client": client["clientId"],
                "family": family,
                "expires": now + self.refresh_token_ttl,
                "used": False,
            }
            answer["refreshToken"] = refresh
        return answer

    def bearer(self, token: str | None) -> dict[str, Any]:
        """The session behind a portal request's x-amz-sso_bearer_token."""
        if not token:
            raise ApiError("UnauthorizedException", "Session token not found or invalid")
        entry = self.access.get(token)
        if entry is None or entry["family"] in self.logged_out or entry["expires"] <= time.time():
            raise ApiError("UnauthorizedException", "Session token not found or invalid")
        return entry

    def valid_access_tokens(self) -> list[str]:
        now = time.time()
        return [
            token
            for token, entry in self.access.items()
            if entry["expires"] > now and entry["family"] not in self.logged_out
        ]

    def valid_refresh_tokens(self) -> list[str]:
        now = time.time()
        return [
            token
            for token, entry in self.refresh.items()
            if entry["expires"] > now and not entry["used"] and entry["family"] not in self.logged_out
        ]

    # -- OIDC

    def register_client(self, body: dict[str, Any]) -> dict[str, Any]:
        self.count("register_client")
        name = body.get("clientName")
        client_type = body.get("clientType")
        if not isinstance(name, str) or not name:
            raise ApiError("InvalidRequestException", "clientName is required")
        if client_type != "public":
            raise ApiError("InvalidClientMetadataException", "clientType must be public")
        grants = body.get("grantTypes")
        if grants is not None:
            if not isinstance(grants, list) or not all(isinstance(g, str) for g in grants):
                raise ApiError("InvalidRequestException", "grantTypes must be a list of strings")
            unknown = [g for g in grants if g not in KNOWN_GRANTS]
            if unknown:
                raise ApiError("UnsupportedGrantTypeException", f"unsupported grant type {unknown[0]}")
        redirects = body.get("redirectUris") or []
        if not isinstance(redirects, list) or not all(isinstance(r, str) for r in redirects):
            raise ApiError("InvalidRequestException", "redirectUris must be a list of strings")
        for redirect in redirects:
            parts = urllib.parse.urlsplit(redirect)
            if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost", "::1"):
                raise ApiError("InvalidRedirectUriException", "redirect URIs must be loopback http URIs")
        if grants and AUTH_CODE_GRANT in grants and not redirects:
            raise ApiError("InvalidRequestException", "the authorization_code grant needs redirectUris")
        scopes = body.get("scopes") or []
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ApiError("InvalidRequestException", "scopes must be a list of strings")
        issuer = body.get("issuerUrl")
        if isinstance(issuer, str):
            self.issuer_urls.append(issuer)
        now = int(time.time())
        client_id = rand(16)
        client = {
            "clientId": client_id,
            "clientName": name,
            "clientType": client_type,
            "grantTypes": grants,  # None when not given
            "redirectUris": redirects,
            "scopes": scopes,
            "issuerUrl": issuer,
            "secret": "cs" + rand(64),
            "issued_at": now,
            "secret_expires_at": now + self.registration_ttl,
        }
        self.clients[client_id] = client
        return {
            "clientId": client_id,
            "clientSecret": client["secret"],
            "clientIdIssuedAt": now,
            "clientSecretExpiresAt": client["secret_expires_at"],
        }

    def start_device_authorization(self, body: dict[str, Any]) -> dict[str, Any]:
        self.count("start_device_authorization")
        client = self.client_for(body)
        if DEVICE_GRANT not in effective_grants(client):
            raise ApiError("UnauthorizedClientException", "the client did not register the device_code grant")
        start_url = body.get("startUrl")
        if not isinstance(start_url, str) or not start_url:
            raise ApiError("InvalidRequestException", "startUrl is required")
        self.start_urls.append(start_url)
        device_code = rand(48)
        letters = "BCDFGHJKLMNPQRSTVWXZ"
        user_code = "".join(secrets.choice(letters) for _ in range(4)) + "-" + "".join(
            secrets.choice(letters) for _ in range(4)
        )
        self.devices[device_code] = {
            "client": client["clientId"],
            "user_code": user_code,
            "start_url": start_url,
            "expires": time.time() + self.device_expires_in,
            "interval": self.device_interval,
            "pending_polls": 0,
            "approved": self.approve_after <= 0,
            "used": False,
            "last_poll": None,
            "started": time.monotonic(),
            "polls": [],
        }
        complete = f"{self.endpoint}/device?" + urllib.parse.urlencode({"user_code": user_code})
        return {
            "deviceCode": device_code,
            "userCode": user_code,
            "verificationUri": f"{self.endpoint}/device",
            "verificationUriComplete": complete,
            "expiresIn": self.device_expires_in,
            "interval": self.device_interval,
        }

    def create_token(self, body: dict[str, Any]) -> dict[str, Any]:
        grant = body.get("grantType")
        self.count("create_token:" + GRANT_KEYS.get(grant, "other"))
        if isinstance(body.get("redirectUri"), str):
            self.last_create_token_redirect_uri = body["redirectUri"]
        client = self.client_for(body)
        if not isinstance(grant, str) or not grant:
            raise ApiError("InvalidRequestException", "grantType is required")
        if grant not in KNOWN_GRANTS:
            raise ApiError("UnsupportedGrantTypeException", f"unsupported grant type {grant}")
        if grant not in effective_grants(client):
            raise ApiError("UnauthorizedClientException", f"the client did not register the {GRANT_KEYS[grant]} grant")
        if grant == DEVICE_GRANT:
            return self.device_grant(client, body)
        if grant == AUTH_CODE_GRANT:
            return self.code_grant(client, body)
        return self.refresh_grant(client, body)

    def device_grant(self, client: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        code = body.get("deviceCode")
        if not isinstance(code, str) or not code:
            raise ApiError("InvalidRequestException", "deviceCode is required")
        device = self.devices.get(code)
        if device is None or device["client"] != client["clientId"] or device["used"]:
            raise ApiError("InvalidGrantException", "Invalid grant provided")
        now = time.monotonic()
        poll = {"t": round(now - device["started"], 3)}
        device["polls"].append(poll)
        if device["expires"] <= time.time():
            poll["result"] = "expired_token"
            raise ApiError("ExpiredTokenException", "The device code has expired")
        last = device["last_poll"]
        device["last_poll"] = now
        # A little slack for timer jitter; a client that sleeps `interval` always passes.
        if last is not None and now - last < device["interval"] - 0.05:
            # RFC 8628 3.5: the interval grows by 5 s for this and every later request.
            device["interval"] += 5
            poll["result"] = "slow_down"
            raise ApiError("SlowDownException", "Client is polling too quickly")
        if not device["approved"]:
            device["pending_polls"] += 1
            if device["pending_polls"] >= self.approve_after:
                device["approved"] = True
            poll["result"] = "authorization_pending"
            raise ApiError("AuthorizationPendingException", "Authorization is still pending")
        device["used"] = True
        poll["result"] = "ok"
        grants = client["grantTypes"]
        # The real service hands device-flow clients a refresh token when they registered
        # the grant, or (registered without grantTypes, as the AWS CLI does) with scopes.
        with_refresh = REFRESH_GRANT in grants if grants else bool(client["scopes"])
        return self.issue(client, rand(12), with_refresh)

    def code_grant(self, client: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        code = body.get("code")
        verifier = body.get("codeVerifier")
        redirect = body.get("redirectUri")
        for field, value in (("code", code), ("codeVerifier", verifier), ("redirectUri", redirect)):
            if not isinstance(value, str) or not value:
                raise ApiError("InvalidRequestException", f"{field} is required")
        binding = self.codes.get(code)
        if binding is None or binding["client"] != client["clientId"]:
            raise ApiError("InvalidGrantException", "Invalid authorization code")
        if binding["used"]:
            raise ApiError("InvalidGrantException", "The authorization code has already been used")
        binding["used"] = True  # single use, whatever happens next
        if binding["expires"] <= time.time():
            raise ApiError("InvalidGrantException", "The authorization code has expired")
        if redirect != binding["redirect_uri"]:
            raise ApiError("InvalidGrantException", "redirectUri does not match the authorization request")
        if not VERIFIER_RE.match(verifier):
            raise ApiError("InvalidRequestException", "codeVerifier is malformed")
        if not secrets.compare_digest(s256(verifier), binding["challenge"]):
            raise ApiError("InvalidGrantException", "codeVerifier does not match the code challenge")
        return self.issue(client, rand(12), True)

    def refresh_grant(self, client: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        token = body.get("refreshToken")
        if not isinstance(token, str) or not token:
            raise ApiError("InvalidRequestException", "refreshToken is required")
        entry = self.refresh.get(token)
        if (
            entry is None
            or entry["client"] != client["clientId"]
            or entry["used"]
            or entry["family"] in self.logged_out
        ):
            raise ApiError("InvalidGrantException", "Invalid refresh token")
        if entry["expires"] <= time.time():
            raise ApiError("InvalidGrantException", "The refresh token has expired")
        entry["used"] = True  # rotated: the answer carries its successor
        return self.issue(client, entry["family"], True)

    def authorize(self, query: dict[str, str]) -> str:
        """The Location to send the browser to, or ValueError with the reason it is refused."""
        self.count("authorize")
        redirect = query.get("redirect_uri", "")
        self.last_authorize_redirect_uri = redirect or None
        self.last_authorize = {
            key: query.get(key)
            for key in ("response_type", "client_id", "redirect_uri", "code_challenge_method", "scopes", "scope")
        }
        if query.get("response_type") != "code":
            raise ValueError("response_type must be code")
        client = self.clients.get(query.get("client_id", ""))
        if client is None:
            raise ValueError("unknown client_id")
        if client["secret_expires_at"] <= time.time():
            raise ValueError("the client registration has expired")
        if AUTH_CODE_GRANT not in effective_grants(client):
            raise ValueError("the client did not register the authorization_code grant")
        parts = urllib.parse.urlsplit(redirect)
        try:
            port = parts.port
        except ValueError:
            port = None
        if (
            parts.scheme != "http"
            or parts.hostname != "127.0.0.1"
            or port is None
            or parts.path != LOOPBACK_CALLBACK_PATH
            or parts.query
            or parts.fragment
        ):
            raise ValueError("redirect_uri must be http://127.0.0.1:PORT/oauth/callback")
        if not any(loopback_match(registered, redirect) for registered in client["redirectUris"]):
            raise ValueError("redirect_uri does not match a registered redirect URI")
        if query.get("code_challenge_method") != "S256":
            raise ValueError("code_challenge_method must be S256")
        challenge = query.get("code_challenge", "")
        if not CHALLENGE_RE.match(challenge):
            raise ValueError("code_challenge must be an unpadded base64url SHA-256")
        state = query.get("state", "")
        if not state:
            raise ValueError("state is required")
        requested = (query.get("scopes") or query.get("scope") or "").split()
        if client["scopes"] and any(scope not in client["scopes"] for scope in requested):
            raise ValueError("a requested scope was not registered")
        code = rand(32)
        self.codes[code] = {
            "client": client["clientId"],
            "redirect_uri": redirect,
            "challenge": challenge,
            "expires": time.time() + 600,
            "used": False,
        }
        return redirect + "?" + urllib.parse.urlencode({"code": code, "state": state})

    def device_page(self, user_code: str) -> bool:
        self.count("device_page")
        for device in self.devices.values():
            if device["user_code"] == user_code and not device["used"] and device["expires"] > time.time():
                if self.device_page_approves:
                    device["approved"] = True
                return True
        return False

    # -- portal

    def find_role(self, account_id: str, role_name: str) -> dict[str, Any]:
        for account in self.accounts:
            if account["accountId"] == account_id:
                for role in account["roles"]:
                    if role["roleName"] == role_name:
                        return role
        raise ApiError("ResourceNotFoundException", "No access")

    def get_role_credentials(self, token: str | None, query: dict[str, str]) -> dict[str, Any]:
        self.count("get_role_credentials")
        self.bearer(token)
        role_name = query.get("role_name")
        account_id = query.get("account_id")
        if not role_name or not account_id:
            raise ApiError("InvalidRequestException", "role_name and account_id are required")
        credentials = self.find_role(account_id, role_name)["credentials"]
        answer = {
            "accessKeyId": credentials["accessKeyId"],
            "secretAccessKey": credentials["secretAccessKey"],
            "expiration": int((time.time() + self.role_credentials_ttl) * 1000),
        }
        if credentials.get("sessionToken"):
            answer["sessionToken"] = credentials["sessionToken"]
        return {"roleCredentials": answer}

    def page(self, items: list[Any], query: dict[str, str], kind: str, size: int) -> tuple[list[Any], str | None]:
        start = 0
        token = query.get("next_token")
        if token:
            try:
                decoded = json.loads(base64.urlsafe_b64decode(token.encode() + b"==="))
                if decoded["k"] != kind:
                    raise ValueError
                start = int(decoded["o"])
            except Exception:
                raise ApiError("InvalidRequestException", "Invalid nextToken") from None
        if "max_result" in query:
            try:
                limit = int(query["max_result"])
            except ValueError:
                raise ApiError("InvalidRequestException", "max_result must be a number") from None
            if not 1 <= limit <= 100:
                raise ApiError("InvalidRequestException", "max_result must be between 1 and 100")
            size = min(size, limit)
        chunk = items[start : start + size]
        following = None
        if start + size < len(items):
            raw = json.dumps({"k": kind, "o": start + size}).encode()
            following = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return chunk, following

    def list_accounts(self, token: str | None, query: dict[str, str]) -> dict[str, Any]:
        self.count("list_accounts")
        self.bearer(token)
        items = [
            {key: account[key] for key in ("accountId", "accountName", "emailAddress") if account.get(key)}
            for account in self.accounts
        ]
        chunk, following = self.page(items, query, "accounts", self.accounts_page)
        answer: dict[str, Any] = {"accountList": chunk}
        if following:
            answer["nextToken"] = following
        return answer

    def list_account_roles(self, token: str | None, query: dict[str, str]) -> dict[str, Any]:
        self.count("list_account_roles")
        self.bearer(token)
        account_id = query.get("account_id")
        if not account_id:
            raise ApiError("InvalidRequestException", "account_id is required")
        account = next((a for a in self.accounts if a["accountId"] == account_id), None)
        if account is None:
            raise ApiError("ResourceNotFoundException", "No access")
        items = [{"roleName": role["roleName"], "accountId": account_id} for role in account["roles"]]
        chunk, following = self.page(items, query, "roles:" + account_id, self.roles_page)
        answer: dict[str, Any] = {"roleList": chunk}
        if following:
            answer["nextToken"] = following
        return answer

    def logout(self, token: str | None) -> None:
        self.count("logout")
        entry = self.bearer(token)
        # Logout ends the sign-in session: every access and refresh token descended from it.
        self.logged_out.add(entry["family"])

    # -- admin

    def state(self) -> dict[str, Any]:
        return {
            "counters": dict(self.counters),
            "errors": dict(self.errors),
            "last_authorize_redirect_uri": self.last_authorize_redirect_uri,
            "last_create_token_redirect_uri": self.last_create_token_redirect_uri,
            "last_authorize": self.last_authorize,
            "clients": [
                {
                    "clientId": c["clientId"],
                    "clientName": c["clientName"],
                    "clientType": c["clientType"],
                    "grantTypes": c["grantTypes"],
                    "redirectUris": c["redirectUris"],
                    "scopes": c["scopes"],
                    "issuerUrl": c["issuerUrl"],
                    "expired": c["secret_expires_at"] <= time.time(),
                }
                for c in self.clients.values()
            ],
            "start_urls": list(self.start_urls),
            "issuer_urls": list(self.issuer_urls),
            "device_authorizations": [
                {
                    "approved": d["approved"],
                    "used": d["used"],
                    "interval": d["interval"],
                    "polls": list(d["polls"]),
                }
                for d in self.devices.values()
            ],
            "valid_access_tokens": self.valid_access_tokens(),
            "valid_refresh_tokens": self.valid_refresh_tokens(),
            "accounts": self.accounts,
        }

    def admin(self, action: str, body: Any) -> dict[str, Any]:
        now = time.time()
        if action == "expire_access_tokens":
            for entry in self.access.values():
                entry["expires"] = min(entry["expires"], now - 1)
        elif action == "revoke_refresh_tokens":
            for entry in self.refresh.values():
                entry["used"] = True
        elif action == "approve":
            for device in self.devices.values():
                device["approved"] = True
        elif action == "set_accounts":
            accounts = body.get("accounts") if isinstance(body, dict) else body
            self.accounts = validate_accounts(accounts)
        elif action == "expire_registrations":
            for client in self.clients.values():
                client["secret_expires_at"] = min(client["secret_expires_at"], int(now) - 1)
        elif action == "expire_device_codes":
            for device in self.devices.values():
                device["expires"] = min(device["expires"], now - 1)
        elif action == "reset_counters":
            self.reset_counters()
        else:
            raise KeyError(action)
        return {"ok": True}


def effective_grants(client: dict[str, Any]) -> list[str]:
    return client["grantTypes"] if client["grantTypes"] else DEFAULT_GRANTS


def loopback_match(registered: str, given: str) -> bool:
    """RFC 8252 7.3: a loopback redirect URI matches a registered one whatever its port."""
    a, b = urllib.parse.urlsplit(registered), urllib.parse.urlsplit(given)
    return (a.scheme, a.hostname, a.path, a.query) == (b.scheme, b.hostname, b.path, b.query)


def validate_accounts(accounts: Any) -> list[dict[str, Any]]:
    if not isinstance(accounts, list):
        raise ValueError("accounts must be a list")
    result = []
    for account in accounts:
        if not isinstance(account, dict) or not isinstance(account.get("accountId"), str):
            raise ValueError("each account needs an accountId")
        roles = []
        for role in account.get("roles", []):
            creds = role.get("credentials") or {}
            if not isinstance(role.get("roleName"), str) or not creds.get("accessKeyId") or not creds.get(
                "secretAccessKey"
            ):
                raise ValueError("each role needs a roleName and credentials with a key pair")
            roles.append({"roleName": role["roleName"], "credentials": dict(creds)})
        result.append(
            {
                "accountId": account["accountId"],
                "accountName": account.get("accountName", account["accountId"]),
                "emailAddress": account.get("emailAddress", ""),
                "roles": roles,
            }
        )
    return result


# --------------------------------------------------------------------------- HTTP


def make_handler(fake: Fake, log_requests: bool) -> type:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.1 so that SDK clients keep their connections; every answer has a length.
        protocol_version = "HTTP/1.1"
        server_version = "sso-fake"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the default line carries the query (user codes, states): see note()

        def note(self, operation: str, status: int, detail: str = "") -> None:
            if log_requests:
                extra = f" {detail}" if detail else ""
                sys.stderr.write(f"sso_fake: {operation} -> {status}{extra}\n")
                sys.stderr.flush()

        def read_body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";", 1)[0].strip(), 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-amzn-RequestId", rand(12))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def send_json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
            self.send(status, json.dumps(value).encode(), "application/json", headers)

        def send_error_shape(self, operation: str, error: ApiError, portal: bool) -> None:
            if portal:
                status = PORTAL_ERRORS.get(error.name, 400)
                body: dict[str, Any] = {"message": error.description}
            else:
                status, code = OIDC_ERRORS.get(error.name, (400, "invalid_request"))
                body = {"error": code, "error_description": error.description}
            key = f"{operation}:{error.name}"
            fake.errors[key] = fake.errors.get(key, 0) + 1
            self.note(operation, status, error.name)
            self.send_json(status, body, {"x-amzn-errortype": error.name})

        def handle_any(self) -> None:
            try:
                self.route()
            except BrokenPipeError:
                pass
            except Exception as error:  # a bug in the fake: say so, loudly, as a 500
                sys.stderr.write(f"sso_fake: internal error: {error!r}\n")
                body = {"error": "server_error", "error_description": "internal error in the fake"}
                try:
                    self.send_json(500, body, {"x-amzn-errortype": "InternalServerException"})
                except Exception:
                    pass

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_any

        def route(self) -> None:
            split = urllib.parse.urlsplit(self.path)
            path = split.path
            query = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
            raw = self.read_body()
            method = self.command
            oidc = {
                ("POST", "/client/register"): ("RegisterClient", fake.register_client),
                ("POST", "/device_authorization"): ("StartDeviceAuthorization", fake.start_device_authorization),
                ("POST", "/token"): ("CreateToken", fake.create_token),
            }
            portal = {
                ("GET", "/federation/credentials"): ("GetRoleCredentials", fake.get_role_credentials),
                ("GET", "/assignment/accounts"): ("ListAccounts", fake.list_accounts),
                ("GET", "/assignment/roles"): ("ListAccountRoles", fake.list_account_roles),
            }
            if (method, path) in oidc:
                operation, call = oidc[(method, path)]
                if query.get("aws_iam") is not None:
                    operation = "CreateTokenWithIAM"
                try:
                    body = json.loads(raw or b"{}")
                    if not isinstance(body, dict):
                        raise ValueError
                except ValueError:
                    with fake.lock:
                        self.send_error_shape(operation, ApiError("InvalidRequestException", "malformed JSON"), False)
                    return
                with fake.lock:
                    try:
                        if operation == "CreateTokenWithIAM":
                            raise ApiError("InvalidRequestException", "CreateTokenWithIAM is not faked")
                        answer = call(body)
                    except ApiError as error:
                        if operation == "CreateToken":
                            operation += ":" + GRANT_KEYS.get(body.get("grantType"), "other")
                        self.send_error_shape(operation, error, False)
                        return
                    if operation == "CreateToken":
                        operation += ":" + GRANT_KEYS[body["grantType"]]
                    self.note(operation, 200)
                    self.send_json(200, answer)
                return
            if (method, path) in portal or (method, path) == ("POST", "/logout"):
                token = self.headers.get("x-amz-sso_bearer_token")
                with fake.lock:
                    try:
                        if path == "/logout":
                            operation = "Logout"
                            fake.logout(token)
                            answer = None
                        else:
                            operation, call = portal[(method, path)]
                            answer = call(token, query)
                    except ApiError as error:
                        self.send_error_shape(operation, error, True)
                        return
                    self.note(operation, 200)
                    if answer is None:
                        self.send(200, b"", "application/json")
                    else:
                        self.send_json(200, answer)
                return
            if method == "GET" and path == "/authorize":
                with fake.lock:
                    try:
                        location = fake.authorize(query)
                    except ValueError as refused:
                        self.note("Authorize", 400, str(refused))
                        page = f"<!doctype html><title>Bad request</title><p>Bad request: {refused}</p>\n"
                        self.send(400, page.encode(), "text/html; charset=utf-8")
                        return
                self.note("Authorize", 302)
                self.send(302, b"", "text/html; charset=utf-8", {"Location": location, "Cache-Control": "no-store"})
                return
            if method == "GET" and path == "/device":
                with fake.lock:
                    known = fake.device_page(query.get("user_code", ""))
                status = 200 if known else 400
                self.note("DevicePage", status)
                text = "Request approved. You may close this window." if known else "Unknown or expired code."
                self.send(status, f"<!doctype html><p>{text}</p>\n".encode(), "text/html; charset=utf-8")
                return
            if path.startswith("/_fake/"):
                action = path[len("/_fake/") :]
                with fake.lock:
                    if method == "GET" and action == "state":
                        self.send_json(200, fake.state())
                        return
                    if method == "POST":
                        try:
                            body = json.loads(raw) if raw else None
                            self.note("admin " + action, 200)
                            self.send_json(200, fake.admin(action, body))
                        except KeyError:
                            self.send_json(404, {"message": f"no admin action {action}"})
                        except ValueError as error:
                            self.send_json(400, {"message": str(error)})
                        return
            self.note(f"{method} {path}", 404)
            self.send_json(404, {"message": "no such route"}, {"x-amzn-errortype": "UnknownOperationException"})

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True  # open keep-alive connections must not block exit
    allow_reuse_address = True


def serve(config: dict[str, Any]) -> int:
    fake = Fake(config)
    server = Server((HOST, 0), make_handler(fake, bool(config.get("log", True))))
    fake.endpoint = f"http://{HOST}:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    stop = threading.Event()

    def watch_stdin() -> None:
        # Our lifetime is the parent's: it holds our stdin, and when it exits the pipe closes.
        # The raw descriptor, not sys.stdin: a thread blocked in a buffered read holds its
        # lock, and the interpreter aborts when it finds it held at exit.
        try:
            while os.read(0, 65536):
                pass
        except OSError:
            pass
        stop.set()

    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=watch_stdin, daemon=True).start()
    try:
        sys.stdout.write(json.dumps({"endpoint": fake.endpoint}) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        return 0
    while not stop.wait(0.2):
        pass
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stopper = threading.Thread(target=lambda: (server.shutdown(), server.server_close()), daemon=True)
    stopper.start()
    stopper.join(timeout=2)
    sys.stdout.flush()
    sys.stderr.flush()
    # The stdin thread may still be blocked in read() (after a signal): leave without
    # tearing down the interpreter around it.
    os._exit(0)


# --------------------------------------------------------------------------- self-test


def self_test() -> int:  # pragma: no cover - run by hand
    import subprocess
    import tempfile
    import urllib.error
    import urllib.request

    import boto3
    import botocore.exceptions
    from botocore.config import Config

    here = os.path.dirname(os.path.abspath(__file__))
    config = {
        "accounts": [
            {
                "accountId": "111111111111",
                "accountName": "contractor",
                "emailAddress": "c@example.com",
                "roles": [
                    {"roleName": "Admin", "credentials": {"accessKeyId": "AKIAADMIN", "secretAccessKey": "s1"}},
                    {
                        "roleName": "ReadOnly",
                        "credentials": {"accessKeyId": "ASIARO", "secretAccessKey": "s2", "sessionToken": "t2"},
                    },
                ],
            },
            {"accountId": "222222222222", "accountName": "client-a", "roles": []},
            {"accountId": "333333333333", "accountName": "client-b", "roles": []},
        ],
        "device_approve_after_polls": 2,
        "device_interval": 1,
        "log": False,
    }
    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), json.dumps(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    endpoint = json.loads(proc.stdout.readline())["endpoint"]
    unsigned = Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 1})
    oidc = boto3.client("sso-oidc", endpoint_url=endpoint, region_name="eu-west-1", config=unsigned)
    sso = boto3.client("sso", endpoint_url=endpoint, region_name="eu-west-1", config=unsigned)
    failures = []

    def check(what: str, condition: bool) -> None:
        print(("ok   " if condition else "FAIL ") + what)
        if not condition:
            failures.append(what)

    def raises(what: str, exception: type, call: Any, **kwargs: Any) -> Any:
        try:
            call(**kwargs)
        except exception as error:
            check(what, True)
            return error
        except Exception as error:
            check(f"{what} (got {error!r})", False)
            return None
        check(f"{what} (no error)", False)
        return None

    def state() -> dict[str, Any]:
        return json.load(urllib.request.urlopen(endpoint + "/_fake/state"))

    def admin(action: str, body: Any = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        urllib.request.urlopen(urllib.request.Request(endpoint + "/_fake/" + action, data=data, method="POST"))

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None

    no_redirect = urllib.request.build_opener(NoRedirect)

    def authorize(client_id: str, redirect: str, challenge: str, state_value: str = "st") -> Any:
        query = urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect,
                "state": state_value,
                "code_challenge_method": "S256",
                "scopes": "sso:account:access",
            }
        )
        try:
            return no_redirect.open(f"{endpoint}/authorize?{query}&code_challenge={challenge}")
        except urllib.error.HTTPError as answer:
            return answer

    try:
        # --- authorization code with PKCE
        reg = oidc.register_client(
            clientName="self-test",
            clientType="public",
            grantTypes=["authorization_code", "refresh_token"],
            redirectUris=["http://127.0.0.1/oauth/callback"],
            issuerUrl="https://example.awsapps.com/start",
            scopes=["sso:account:access"],
        )
        check("RegisterClient returns id, secret and integer times", isinstance(reg["clientSecretExpiresAt"], int))
        cid, secret = reg["clientId"], reg["clientSecret"]
        verifier = rand(48)
        challenge = s256(verifier)
        redirect = "http://127.0.0.1:45678/oauth/callback"
        answer = authorize(cid, redirect, challenge, "state-1")
        location = answer.headers.get("Location", "")
        check("/authorize answers 302 to the callback", answer.status == 302 and location.startswith(redirect + "?"))
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
        check("/authorize carries the state back", params.get("state") == "state-1")
        check("/authorize rejects a non-loopback redirect", authorize(cid, "http://evil/oauth/callback", challenge).status == 400)
        check("/authorize rejects a padded challenge", authorize(cid, redirect, challenge + "=").status == 400)
        check("/authorize rejects an unknown client", authorize("nope", redirect, challenge).status == 400)
        token = oidc.create_token(
            clientId=cid, clientSecret=secret, grantType="authorization_code",
            code=params["code"], codeVerifier=verifier, redirectUri=redirect,
        )
        check("CreateToken authorization_code", token["tokenType"] == "Bearer" and "refreshToken" in token)
        check("expiresIn is integer seconds", token["expiresIn"] == 28800)
        raises("a used code is InvalidGrantException", oidc.exceptions.InvalidGrantException, oidc.create_token,
               clientId=cid, clientSecret=secret, grantType="authorization_code",
               code=params["code"], codeVerifier=verifier, redirectUri=redirect)
        code2 = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(
            authorize(cid, redirect, challenge).headers["Location"]).query))["code"]
        raises("a wrong verifier is InvalidGrantException", oidc.exceptions.InvalidGrantException, oidc.create_token,
               clientId=cid, clientSecret=secret, grantType="authorization_code",
               code=code2, codeVerifier=rand(48), redirectUri=redirect)
        code3 = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(
            authorize(cid, redirect, challenge).headers["Location"]).query))["code"]
        raises("another redirectUri is InvalidGrantException", oidc.exceptions.InvalidGrantException,
               oidc.create_token, clientId=cid, clientSecret=secret, grantType="authorization_code",
               code=code3, codeVerifier=verifier, redirectUri="http://127.0.0.1:1/oauth/callback")
        error = raises("a wrong secret is InvalidClientException", oidc.exceptions.InvalidClientException,
                       oidc.create_token, clientId=cid, clientSecret="x", grantType="refresh_token",
                       refreshToken=token["refreshToken"])
        if error is not None:
            check("InvalidClientException is HTTP 401", error.response["ResponseMetadata"]["HTTPStatusCode"] == 401)
            check("the error body carries error/error_description",
                  error.response.get("error") == "invalid_client" and "error_description" in error.response)
        raises("device flow for an auth-code client is UnauthorizedClientException",
               oidc.exceptions.UnauthorizedClientException, oidc.start_device_authorization,
               clientId=cid, clientSecret=secret, startUrl="https://example.awsapps.com/start")

        refreshed = oidc.create_token(clientId=cid, clientSecret=secret, grantType="refresh_token",
                                      refreshToken=token["refreshToken"])
        check("refresh gives a new access and refresh token",
              refreshed["accessToken"] != token["accessToken"] and refreshed["refreshToken"] != token["refreshToken"])
        raises("a rotated refresh token is InvalidGrantException", oidc.exceptions.InvalidGrantException,
               oidc.create_token, clientId=cid, clientSecret=secret, grantType="refresh_token",
               refreshToken=token["refreshToken"])
        access = refreshed["accessToken"]

        # --- portal
        creds = sso.get_role_credentials(roleName="ReadOnly", accountId="111111111111", accessToken=access)
        rc = creds["roleCredentials"]
        check("GetRoleCredentials", rc["accessKeyId"] == "ASIARO" and rc["sessionToken"] == "t2")
        check("expiration is epoch millis", abs(rc["expiration"] / 1000 - time.time() - 3600) < 10)
        creds = sso.get_role_credentials(roleName="Admin", accountId="111111111111", accessToken=access)
        check("a role without a sessionToken omits it", "sessionToken" not in creds["roleCredentials"])
        raises("an unknown role is ResourceNotFoundException", sso.exceptions.ResourceNotFoundException,
               sso.get_role_credentials, roleName="Nope", accountId="111111111111", accessToken=access)
        raises("a bad token is UnauthorizedException", sso.exceptions.UnauthorizedException,
               sso.get_role_credentials, roleName="Admin", accountId="111111111111", accessToken="bad")
        pages = list(sso.get_paginator("list_accounts").paginate(accessToken=access))
        ids = [a["accountId"] for page in pages for a in page["accountList"]]
        check("ListAccounts pages by 2", len(pages) == 2 and ids == ["111111111111", "222222222222", "333333333333"])
        pages = list(sso.get_paginator("list_account_roles").paginate(accessToken=access, accountId="111111111111"))
        roles = [r["roleName"] for page in pages for r in page["roleList"]]
        check("ListAccountRoles pages", len(pages) == 2 and roles == ["Admin", "ReadOnly"])
        check("state lists the live token", access in state()["valid_access_tokens"])

        # --- boto3's own SSO provider reads an AWS CLI style cache
        with tempfile.TemporaryDirectory() as home:
            os.makedirs(f"{home}/.aws/sso/cache")
            cache = {
                "startUrl": "https://example.awsapps.com/start", "region": "eu-west-1",
                "accessToken": access,
                # Within botocore's 15-minute window: it refreshes through the fake first.
                "expiresAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 300)),
                "clientId": cid, "clientSecret": secret,
                "registrationExpiresAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400)),
                "refreshToken": refreshed["refreshToken"],
            }
            name = hashlib.sha1(b"corp").hexdigest()
            with open(f"{home}/.aws/sso/cache/{name}.json", "w") as f:
                json.dump(cache, f)
            with open(f"{home}/.aws/config", "w") as f:
                f.write(
                    "[sso-session corp]\nsso_start_url = https://example.awsapps.com/start\n"
                    "sso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n"
                    "[profile ro]\nsso_session = corp\nsso_account_id = 111111111111\n"
                    "sso_role_name = ReadOnly\nregion = eu-west-1\n"
                    "[profile admin]\nsso_session = corp\nsso_account_id = 111111111111\n"
                    "sso_role_name = Admin\nregion = eu-west-1\n"
                )
            # botocore fixes ~/.aws/sso/cache when imported: ask a fresh interpreter.
            reader = (
                "import boto3, json, sys\n"
                "out = {}\n"
                "for p in ('ro', 'admin'):\n"
                "    try:\n"
                "        c = boto3.Session(profile_name=p).get_credentials().get_frozen_credentials()\n"
                "        out[p] = [c.access_key, c.token]\n"
                "    except Exception as e:\n"
                "        out[p] = repr(e)\n"
                "print(json.dumps(out))\n"
            )
            env = dict(os.environ, HOME=home, AWS_CONFIG_FILE=f"{home}/.aws/config", AWS_ENDPOINT_URL=endpoint)
            env.pop("AWS_PROFILE", None)
            read = json.loads(subprocess.run([sys.executable, "-c", reader], env=env, check=True,
                                             capture_output=True, text=True).stdout)
            check("boto3's SSO provider gets role credentials", read["ro"] == ["ASIARO", "t2"])
            with open(f"{home}/.aws/sso/cache/{name}.json") as f:
                rewritten = json.load(f)
            check("boto3 refreshed the near-expiry token through the fake and rewrote the cache",
                  rewritten["accessToken"] != access and rewritten["refreshToken"] != refreshed["refreshToken"]
                  and state()["counters"]["create_token:refresh_token"] == 4)
            access = rewritten["accessToken"]
            print(f"note: boto3's SSO provider and a role without a sessionToken: {read['admin']}")

        sso.logout(accessToken=access)
        raises("after Logout, GetRoleCredentials is UnauthorizedException", sso.exceptions.UnauthorizedException,
               sso.get_role_credentials, roleName="Admin", accountId="111111111111", accessToken=access)
        raises("after Logout, the refresh token is InvalidGrantException", oidc.exceptions.InvalidGrantException,
               oidc.create_token, clientId=cid, clientSecret=secret, grantType="refresh_token",
               refreshToken=rewritten["refreshToken"])

        # --- device flow
        dreg = oidc.register_client(clientName="dev", clientType="public", scopes=["sso:account:access"])
        auth = oidc.start_device_authorization(clientId=dreg["clientId"], clientSecret=dreg["clientSecret"],
                                               startUrl="https://example.awsapps.com/start")
        check("StartDeviceAuthorization", auth["interval"] == 1 and auth["expiresIn"] == 600
              and auth["verificationUriComplete"].startswith(endpoint + "/device?user_code="))
        poll = dict(clientId=dreg["clientId"], clientSecret=dreg["clientSecret"],
                    grantType=DEVICE_GRANT, deviceCode=auth["deviceCode"])
        raises("first poll is AuthorizationPendingException", oidc.exceptions.AuthorizationPendingException,
               oidc.create_token, **poll)
        raises("an immediate poll is SlowDownException", oidc.exceptions.SlowDownException, oidc.create_token, **poll)
        time.sleep(6.0)  # the interval, 1 s, plus 5 s for the SlowDown
        raises("second pending poll", oidc.exceptions.AuthorizationPendingException, oidc.create_token, **poll)
        time.sleep(6.0)
        dtoken = oidc.create_token(**poll)
        check("device token with a refresh token (scopes registered)", "refreshToken" in dtoken)
        raises("a used device code is InvalidGrantException", oidc.exceptions.InvalidGrantException,
               oidc.create_token, **poll)
        auth2 = oidc.start_device_authorization(clientId=dreg["clientId"], clientSecret=dreg["clientSecret"],
                                                startUrl="https://example.awsapps.com/start")
        admin("expire_device_codes")
        raises("an expired device code is ExpiredTokenException", oidc.exceptions.ExpiredTokenException,
               oidc.create_token, **dict(poll, deviceCode=auth2["deviceCode"]))

        # --- admin routes
        admin("expire_access_tokens")
        raises("expired access token is UnauthorizedException", sso.exceptions.UnauthorizedException,
               sso.list_accounts, accessToken=dtoken["accessToken"])
        again = oidc.create_token(clientId=dreg["clientId"], clientSecret=dreg["clientSecret"],
                                  grantType="refresh_token", refreshToken=dtoken["refreshToken"])
        admin("set_accounts", [{"accountId": "444444444444", "accountName": "only", "roles": []}])
        listed = sso.list_accounts(accessToken=again["accessToken"])["accountList"]
        check("set_accounts", [a["accountId"] for a in listed] == ["444444444444"])
        admin("revoke_refresh_tokens")
        raises("revoked refresh token is InvalidGrantException", oidc.exceptions.InvalidGrantException,
               oidc.create_token, clientId=dreg["clientId"], clientSecret=dreg["clientSecret"],
               grantType="refresh_token", refreshToken=again["refreshToken"])

        # --- follow_browser.py against a one-shot callback server, through a page like console's
        reg = oidc.register_client(clientName="browser", clientType="public",
                                   grantTypes=["authorization_code", "refresh_token"],
                                   redirectUris=["http://127.0.0.1/oauth/callback"],
                                   issuerUrl="https://example.awsapps.com/start", scopes=["sso:account:access"])
        for mode in ("follow", "tamper_state", "no_follow"):
            got: dict[str, Any] = {}

            class Callback(BaseHTTPRequestHandler):
                def log_message(self, *args: Any) -> None:
                    pass

                def do_GET(self) -> None:
                    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                    got.update(q)
                    ok = q.get("state") == "expected-state"
                    body = b"<p>done</p>" if ok else b"<p>state mismatch</p>"
                    self.send_response(200 if ok else 400)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            from http.server import HTTPServer

            callback = HTTPServer((HOST, 0), Callback)
            callback.timeout = 10
            redirect = f"http://127.0.0.1:{callback.server_port}/oauth/callback"
            verifier = rand(48)
            url = f"{endpoint}/authorize?" + urllib.parse.urlencode({
                "response_type": "code", "client_id": reg["clientId"], "redirect_uri": redirect,
                "state": "expected-state", "code_challenge_method": "S256",
                "scopes": "sso:account:access", "code_challenge": s256(verifier)})
            with tempfile.TemporaryDirectory() as tmp:
                page = os.path.join(tmp, "a b.html")
                attribute = url.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
                script = json.dumps(url).replace("<", "\\u003c")
                with open(page, "w") as f:
                    f.write(
                        '<!doctype html>\n<html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">\n'
                        f'<meta http-equiv="refresh" content="0;url={attribute}">\n'
                        f"<title>AWS console</title></head>\n<body>\n<script>\nlocation.replace({script});\n</script>\n"
                        f'<p><a href="{attribute}">Open the AWS console</a></p>\n</body></html>\n'
                    )
                os.chmod(page, 0o600)
                log = os.path.join(tmp, "log")
                env = dict(os.environ, FOLLOW_BROWSER_LOG=log)
                if mode != "follow":
                    env["FOLLOW_BROWSER_MODE"] = mode
                file_url = "file://" + urllib.parse.quote(page)
                browser = subprocess.Popen([sys.executable, os.path.join(here, "follow_browser.py"), file_url], env=env)
                if mode != "no_follow":
                    callback.handle_request()
                code_ = browser.wait(timeout=30)
                callback.server_close()
                with open(log) as f:
                    entry = json.loads(f.read().splitlines()[-1])
            check(f"follow_browser {mode}: exit 0", code_ == 0)
            if mode == "follow":
                check("follow_browser logs the callback path and 200",
                      entry["opened"] == "/oauth/callback" and entry["status"] == 200 and entry["argv"] == [file_url])
                token = oidc.create_token(clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                                          grantType="authorization_code", code=got["code"],
                                          codeVerifier=verifier, redirectUri=redirect)
                check("the code the browser delivered is accepted", "accessToken" in token)
                check("the log never holds the code", got["code"] not in json.dumps(entry))
            elif mode == "tamper_state":
                check("tamper_state changes the state", got.get("state") not in (None, "expected-state")
                      and entry["status"] == 400)
            else:
                check("no_follow fetches nothing", not got and entry["status"] is None)

        st = state()
        check("state counters", st["counters"]["create_token:device_code"] >= 5 and st["counters"]["logout"] == 1)
        check("state remembers the last redirect URIs",
              all(re.match(r"^http://127\.0\.0\.1:\d+/oauth/callback$", st[key] or "")
                  for key in ("last_authorize_redirect_uri", "last_create_token_redirect_uri")))
        print(json.dumps(st["errors"], indent=1))
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
    check("the fake exits on stdin EOF", proc.returncode == 0)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


def main() -> int:
    if len(sys.argv) != 2:
        sys.stderr.write("usage: sso_fake.py CONFIG_JSON | --self-test\n")
        return 2
    if sys.argv[1] == "--self-test":
        return self_test()
    config = json.loads(sys.argv[1])
    if not isinstance(config, dict):
        sys.stderr.write("sso_fake: CONFIG_JSON must be an object\n")
        return 2
    return serve(config)


if __name__ == "__main__":
    sys.exit(main())
