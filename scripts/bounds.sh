#!/usr/bin/env bash
# Measures how long each kind of wait lasts when the other side never answers: a silent or
# dead STS, a silent S3, instance metadata and container credentials that never answer, and
# helper processes that hang. Everything is on loopback; nothing leaves this machine.
#
#   bash scripts/bounds.sh            # every case (about 3 minutes: two helpers wait 60 s)
#   bash scripts/bounds.sh --quick    # helpers with ASSUME_ROLE_PROCESS_TIMEOUT=5
#
# Prints one line per case: what was waited for, the exit code, the seconds it took, and the
# first line of the message. The bounds themselves are documented in README "Every wait is
# bounded"; this shows that they hold for the real binary.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

quick=0
[ "${1:-}" = "--quick" ] && quick=1

bash scripts/venv.sh
py="${ASSUME_ROLE_VENV:-$repo_root/.venv}/bin/python"
echo "building the debug binary (cargo shows its progress)" >&2
cargo build --locked >&2
bin="$(cargo metadata --format-version 1 --no-deps |
    "$py" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/debug/assume-role"

tmp="$(mktemp -d)"
trap 'kill "$silent_pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT

# A listener that accepts connections and never answers, for at most 10 minutes.
"$py" - "$tmp/port" <<'EOF' &
import socket, sys, threading, time
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(64)
open(sys.argv[1], "w").write(str(server.getsockname()[1]))
held = []
deadline = time.time() + 600
server.settimeout(1)
while time.time() < deadline:
    try:
        held.append(server.accept()[0])
    except socket.timeout:
        pass
EOF
silent_pid=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
silent="http://127.0.0.1:$(cat "$tmp/port")"
# A port nobody listens on: bound then released.
dead="http://127.0.0.1:$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"

mkdir -p "$tmp/home/.aws"
cat >"$tmp/home/.aws/credentials" <<'EOF'
[contractor]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
EOF
cat >"$tmp/home/.aws/config" <<'EOF'
[profile contractor]
region = eu-west-1

[profile client]
role_arn = arn:aws:iam::222222222222:role/client
source_profile = contractor
region = eu-west-1

[profile from-imds]
role_arn = arn:aws:iam::222222222222:role/client
credential_source = Ec2InstanceMetadata
region = eu-west-1

[profile from-ecs]
role_arn = arn:aws:iam::222222222222:role/client
credential_source = EcsContainer
region = eu-west-1

[profile hanging-mfa]
role_arn = arn:aws:iam::222222222222:role/client
source_profile = contractor
mfa_serial = arn:aws:iam::111111111111:mfa/me
mfa_process = sleep 600
region = eu-west-1

[profile hanging-process]
credential_process = sh -c 'sleep 600 & sleep 600'
region = eu-west-1

[profile from-hanging-process]
role_arn = arn:aws:iam::222222222222:role/client
source_profile = hanging-process
region = eu-west-1
EOF

measure() {
    local what="$1"
    shift
    local start end code
    start="$("$py" -c 'import time; print(time.monotonic())')"
    set +e
    env -i PATH="$PATH" HOME="$tmp/home" ASSUME_ROLE_CACHE_DIR="$tmp/cache" AWS_EC2_METADATA_DISABLED=false \
        "$@" </dev/null >/dev/null 2>"$tmp/stderr"
    code=$?
    set -e
    end="$("$py" -c 'import time; print(time.monotonic())')"
    printf '%-44s exit %-3s %6.1f s  %s\n' "$what" "$code" \
        "$("$py" -c "print($end - $start)")" "$(head -n 1 "$tmp/stderr" | cut -c1-110)"
}

helper_timeout=()
[ "$quick" = 1 ] && helper_timeout=(ASSUME_ROLE_PROCESS_TIMEOUT=5)

echo "== each wait, against a peer that never answers"
measure "STS refuses the connection" env AWS_ENDPOINT_URL="$dead" "$bin" env client
measure "STS silent (3 attempts, 12 s in all)" env AWS_ENDPOINT_URL="$silent" "$bin" env client
measure "S3 silent (onboard publish)" env AWS_ENDPOINT_URL="$silent" "$bin" onboard publish \
    --bucket my-templates --profile contractor --contractor-account 111111111111 --managed-policy ReadOnlyAccess
measure "instance metadata silent" env AWS_EC2_METADATA_SERVICE_ENDPOINT="$silent" \
    AWS_ENDPOINT_URL="$dead" "$bin" env from-imds
measure "container credentials silent" env AWS_CONTAINER_CREDENTIALS_FULL_URI="$silent/creds" \
    AWS_ENDPOINT_URL="$dead" "$bin" env from-ecs
measure "mfa_process hangs" env "${helper_timeout[@]}" AWS_ENDPOINT_URL="$dead" "$bin" env hanging-mfa
measure "credential_process hangs (and its child)" env "${helper_timeout[@]}" AWS_ENDPOINT_URL="$dead" \
    "$bin" env from-hanging-process
if pgrep -f 'sleep 600' >/dev/null 2>&1; then
    echo "left behind: $(pgrep -fa 'sleep 600' | head -n 3)"
else
    echo "left behind: nothing (no 'sleep 600' survives its helper)"
fi
