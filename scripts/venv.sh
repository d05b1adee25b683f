#!/usr/bin/env bash
# Create or update the Python virtualenv the tests and the demo use (moto, boto3,
# AWS CLI v1), at ${ASSUME_ROLE_VENV:-<repo>/.venv}.
#
# Idempotent and cheap when nothing changed: pip only runs when the sha256 of
# scripts/requirements-test.txt differs from the stamp left by the last
# successful install, so scripts/test.sh can call this on every run.
#
# Callers use "$VENV/bin/python" ("$VENV/Scripts/python.exe" on Windows).
# Everything this prints goes to stderr, so callers may capture stdout freely.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/.." && pwd)"
venv="${ASSUME_ROLE_VENV:-$repo_root/.venv}"
requirements="$repo_root/scripts/requirements-test.txt"
stamp="$venv/.requirements.sha256"

log() { printf 'venv.sh: %s\n' "$*" >&2; }

# Windows venvs put the interpreter under Scripts/, everything else under bin/.
venv_python() {
    if [ -x "$venv/Scripts/python.exe" ]; then
        printf '%s\n' "$venv/Scripts/python.exe"
    else
        printf '%s\n' "$venv/bin/python"
    fi
}

# Prefer python3, but on Windows "python3" may be the Microsoft Store stub that
# exists on PATH yet cannot run anything, so actually try each candidate.
find_base_python() {
    local candidate
    for candidate in ${ASSUME_ROLE_BASE_PYTHON:-} python3 python; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 9))' >/dev/null 2>&1; then
            printf '%s\n' "$candidate"
            return 0
        fi
    done
    log "no usable python3 (>= 3.9 with the venv module) on PATH"
    return 1
}

base_python="$(find_base_python)"

# Hash with Python rather than sha256sum/shasum, whose availability differs
# between Linux, macOS and Git Bash.
want="$("$base_python" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$requirements")"

# A venv whose interpreter no longer runs (the base Python was upgraded or
# removed) cannot be repaired by pip: start over.
if [ -d "$venv" ] && ! "$(venv_python)" -c 'pass' >/dev/null 2>&1; then
    log "existing venv at $venv is broken; recreating it"
    rm -rf "$venv"
fi

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi

if [ ! -d "$venv" ]; then
    log "creating $venv with $("$base_python" --version 2>&1)"
    "$base_python" -m venv "$venv"
fi

py="$(venv_python)"
log "installing $(basename "$requirements") into $venv (takes a minute the first time)"
# The stamp is removed first and written last, so an interrupted install is
# retried on the next run instead of being taken for a finished one.
rm -f "$stamp"
"$py" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements" >&2
printf '%s\n' "$want" >"$stamp"
log "ready: $py"
