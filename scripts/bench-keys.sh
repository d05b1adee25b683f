#!/usr/bin/env bash
# What one read of a stored key costs, per backend: the Secret Service (gnome-keyring in a
# private, headless D-Bus session) and the passphrase-encrypted file. Each cold run reads the
# key once and logs `read the stored key … elapsed_ms` at -v; STS is a dead port, so the run
# fails right after the read and nothing else is timed.
#   bash scripts/bench-keys.sh [BINARY]     (default: target/release/assume-role)
# Needs dbus-run-session, gnome-keyring-daemon and gdbus (Debian: dbus gnome-keyring libglib2.0-bin).
set -uo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
binary="${1:-$repo_root/target/release/assume-role}"
if [ -z "${BENCH_KEYS_INSIDE:-}" ]; then
    home="$(mktemp -d)"
    trap 'rm -rf "$home"' EXIT
    mkdir -p "$home/.aws"
    printf '[profile me]\nregion = us-east-1\n' > "$home/.aws/config"
    BENCH_KEYS_INSIDE=1 HOME="$home" XDG_DATA_HOME="$home/data" XDG_CACHE_HOME="$home/cache" \
        XDG_STATE_HOME="$home/state" AWS_CONFIG_FILE="$home/.aws/config" \
        AWS_SHARED_CREDENTIALS_FILE="$home/.aws/credentials" \
        exec dbus-run-session -- bash "${BASH_SOURCE[0]}" "$binary"
fi
printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
gdbus wait --session --timeout 10 org.freedesktop.secrets
export AWS_ENDPOINT_URL=http://127.0.0.1:9 ASSUME_ROLE_FILE_PASSPHRASE=bench ASSUME_ROLE_AUDIT=0
for backend in os file; do
    AWS_ACCESS_KEY_ID=AKIAEXAMPLEEXAMPLE12 AWS_SECRET_ACCESS_KEY=bench-secret-not-real \
        "$binary" keys add me --from-env --no-check --backend "$backend" 2>/dev/null
    printf '%s backend, ms per read:' "$backend"
    for _ in 1 2 3 4 5; do
        "$binary" -v env me --no-cache 2>&1 >/dev/null | grep -o 'elapsed_ms=[0-9]*' | tr -d '\n' | sed 's/elapsed_ms=/ /'
    done
    echo
    "$binary" keys remove me --yes 2>/dev/null
done
