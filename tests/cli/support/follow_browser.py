#!/usr/bin/env python3
"""A BROWSER for the tests: opens what the tool hands it and follows redirects to the callback.

Invoked as a browser is: `follow_browser.py ARG`, where ARG is a URL, a `file:` URL or a path
of a local HTML page. assume-role hands a browser a private page that sends it on to the real
URL (src/console/page.rs: a meta refresh, `location.replace("...")` and a link), so the URL is
never on a command line. This reads such a page, takes the target from the script (a JSON
string), else the meta refresh, else the link; then GETs the target with redirects followed by
hand, up to and including the loopback callback (fetched exactly once: the tool's callback
server may answer only once), with a 20 s timeout overall.

Environment:
  FOLLOW_BROWSER_LOG   append one JSON line: {"opened": <path of the last URL fetched, or of
                       the target when nothing was fetched; never a query>, "status": <its HTTP
                       status, or null>, "argv": sys.argv[1:], "mode": ..., "target": <path of
                       the page's target>, "error": <only when something failed>}. Never the
                       code, the state or any other query parameter.
  FOLLOW_BROWSER_MODE  unset or "follow": follow to the callback;
                       "tamper_state": change the `state` parameter before the callback is
                       fetched (the tool must reject it);
                       "no_follow": read the page, log, fetch nothing.

It always exits 0 (a browser that could not load a page does not fail its launcher), and
prints nothing to stdout; a failure is one line on stderr and an "error" in the log.
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

TIMEOUT = 20.0
MAX_REDIRECTS = 10
CALLBACK_PATH = "/oauth/callback"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Hand every 3xx back to us: the callback must be fetched once, and maybe tampered with."""

    def redirect_request(self, *args: Any) -> None:
        return None


# An opener without proxies (loopback only) and without automatic redirects.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect)


def page_target(text: str) -> str | None:
    """The URL a page like src/console/page.rs writes sends the browser to."""
    # location.replace("..."): the argument is a JSON string (`<` escaped as \u003c).
    script = re.search(r"location\.(?:replace|assign)\(\s*(\"(?:[^\"\\]|\\.)*\")\s*\)", text)
    if script:
        try:
            return json.loads(script.group(1))
        except ValueError:
            pass
    script = re.search(r"location(?:\.href)?\s*=\s*(\"(?:[^\"\\]|\\.)*\")", text)
    if script:
        try:
            return json.loads(script.group(1))
        except ValueError:
            pass
    for meta in re.finditer(r"<meta\b[^>]*>", text, re.IGNORECASE):
        tag = meta.group(0)
        if not re.search(r"http-equiv\s*=\s*[\"']?refresh", tag, re.IGNORECASE):
            continue
        content = re.search(r"content\s*=\s*(\"[^\"]*\"|'[^']*')", tag, re.IGNORECASE)
        if content:
            value = html.unescape(content.group(1)[1:-1])
            found = re.match(r"\s*[\d.]*\s*[;,]?\s*url\s*=\s*(.*)$", value, re.IGNORECASE | re.DOTALL)
            if found:
                url = found.group(1).strip()
                if len(url) > 1 and url[0] in "'\"" and url[-1] == url[0]:
                    url = url[1:-1]
                return url
    link = re.search(r"<a\b[^>]*\bhref\s*=\s*\"([^\"]*)\"", text, re.IGNORECASE)
    if link:
        return html.unescape(link.group(1))
    return None


def local_path(arg: str) -> str | None:
    """The file ARG names, if it names one (a path or a file: URL)."""
    if arg.startswith("file:"):
        parts = urllib.parse.urlsplit(arg)
        return urllib.request.url2pathname(parts.path)
    if "://" in arg:
        return None
    return arg


def path_of(url: str) -> str:
    return urllib.parse.urlsplit(url).path or "/"


def tamper(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    changed = [(k, (v + "-tampered") if k == "state" else v) for k, v in query]
    if not any(k == "state" for k, _ in query):
        changed.append(("state", "tampered"))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(changed)))


def is_callback(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    return parts.hostname in ("127.0.0.1", "localhost", "::1") and parts.path == CALLBACK_PATH


def follow(url: str, mode: str, deadline: float) -> tuple[str, int | None]:
    """Fetches url and the redirects after it; (the last URL fetched, its status)."""
    for _ in range(MAX_REDIRECTS + 1):
        if mode == "tamper_state" and is_callback(url):
            url = tamper(url)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the 20 s budget ran out")
        try:
            with OPENER.open(urllib.request.Request(url, method="GET"), timeout=remaining) as answer:
                answer.read()
                return url, answer.status
        except urllib.error.HTTPError as answer:
            status = answer.code
            location = answer.headers.get("Location")
            try:
                answer.read()
            except Exception:
                pass
            answer.close()
            if 300 <= status < 400 and location and not is_callback(url):
                url = urllib.parse.urljoin(url, location)
                continue
            return url, status
    raise RuntimeError("too many redirects")


def main() -> int:
    args = sys.argv[1:]
    mode = os.environ.get("FOLLOW_BROWSER_MODE") or "follow"
    entry: dict[str, Any] = {"opened": None, "status": None, "argv": args, "mode": mode}
    deadline = time.monotonic() + TIMEOUT
    try:
        if len(args) != 1:
            raise ValueError(f"expected one argument, got {len(args)}")
        arg = args[0]
        path = local_path(arg)
        if path is not None:
            with open(path, encoding="utf-8", errors="replace") as f:
                target = page_target(f.read())
            if not target:
                raise ValueError("the page names no URL")
        else:
            target = arg
        entry["target"] = path_of(target)
        entry["opened"] = entry["target"]
        if mode != "no_follow":
            last, status = follow(target, mode, deadline)
            entry["opened"] = path_of(last)
            entry["status"] = status
    except Exception as error:
        entry["error"] = f"{type(error).__name__}: {error}"
        # The message of a URL error may quote the URL; keep queries out of logs.
        entry["error"] = re.sub(r"\?\S*", "?…", entry["error"])
        sys.stderr.write(f"follow_browser: {entry['error']}\n")
    log = os.environ.get("FOLLOW_BROWSER_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
