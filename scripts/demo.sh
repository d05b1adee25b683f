#!/usr/bin/env bash
# End-to-end demo of assume-role against a local two-account AWS (moto).
#
# A contractor user in account 111111111111 assumes the client's role in
# account 222222222222 with an external ID and an MFA code, hands the
# credentials to the AWS CLI in every way the tool offers (exec, env,
# credential_process), and chains on to a second client role.
#
# Exits 0 only if every step worked and each AWS call ran as the identity the
# step is meant to produce. Leaves nothing behind: no processes, no files, and
# it never reads or changes the caller's ~/.aws.
set -euo pipefail
shopt -s inherit_errexit

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

say() { printf '\n### %s\n' "$*"; }
fail() {
    printf 'demo: FAILED: %s\n' "$*" >&2
    exit 1
}

tmp="$(mktemp -d "${TMPDIR:-/tmp}/assume-role-demo.XXXXXX")"
fixture_pid=""

cleanup() {
    local status=$?
    # The fixture serves until its stdin reaches EOF: closing our end of the
    # fifo is the polite stop. Signals are the fallback for a stuck one.
    exec 3>&- 2>/dev/null || true
    if [ -n "$fixture_pid" ]; then
        for _ in $(seq 50); do
            kill -0 "$fixture_pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$fixture_pid" 2>/dev/null; then
            kill -TERM "$fixture_pid" 2>/dev/null || true
            sleep 1
            kill -KILL "$fixture_pid" 2>/dev/null || true
        fi
        wait "$fixture_pid" 2>/dev/null || true
    fi
    if [ "$status" -ne 0 ] && [ -s "$tmp/fixture.log" ]; then
        printf 'demo: moto fixture log:\n' >&2
        sed 's/^/  | /' "$tmp/fixture.log" >&2
    fi
    rm -rf "$tmp"
    if [ "$status" -eq 0 ]; then
        printf '\ndemo: all steps passed\n'
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- setup
say "setup: python venv, build, local AWS"

bash scripts/venv.sh
venv="${ASSUME_ROLE_VENV:-$repo_root/.venv}"
py="$venv/bin/python"

# ASSUME_ROLE_BIN runs the demo against a binary built elsewhere (a release
# build, an installed copy) instead of building the debug one.
if [ -n "${ASSUME_ROLE_BIN:-}" ]; then
    binary="$(cd "$(dirname "$ASSUME_ROLE_BIN")" && pwd)/$(basename "$ASSUME_ROLE_BIN")"
else
    # A first build takes a minute or two: cargo shows its progress on stderr.
    cargo build --locked
    target_dir="$(cargo metadata --format-version 1 --no-deps |
        "$py" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
    binary="$target_dir/debug/assume-role"
fi
[ -x "$binary" ] || fail "no executable at $binary"

# stdin is a fifo whose write end we hold on fd 3, so the fixture lives exactly
# as long as this script, however the script ends.
mkfifo "$tmp/fixture.in"
: >"$tmp/fixture.json"
"$py" tests/cli/support/moto_fixture.py <"$tmp/fixture.in" >"$tmp/fixture.json" 2>"$tmp/fixture.log" &
fixture_pid=$!
exec 3>"$tmp/fixture.in"

for _ in $(seq 300); do
    [ "$(wc -l <"$tmp/fixture.json")" -ge 1 ] && break
    kill -0 "$fixture_pid" 2>/dev/null || fail "the moto fixture exited during start-up"
    sleep 0.1
done
[ "$(wc -l <"$tmp/fixture.json")" -ge 1 ] || fail "the moto fixture did not start within 30 s"

# shlex.quote makes the values safe to eval whatever they contain.
eval "$("$py" - "$tmp/fixture.json" <<'PY'
import json, shlex, sys
info = json.loads(open(sys.argv[1]).readline())
values = {
    "endpoint": info["endpoint"],
    "access_key_id": info["contractor"]["access_key_id"],
    "secret_access_key": info["contractor"]["secret_access_key"],
    "client_role_arn": info["client_role_arn"],
    "client_external_id": info["client_external_id"],
    "second_role_arn": info["second_role_arn"],
    "mfa_serial": info["mfa_serial"],
    "bucket": info["bucket"],
}
for name, value in values.items():
    print(f"{name}={shlex.quote(value)}")
PY
)"
echo "moto is serving accounts 111111111111 and 222222222222 at $endpoint"

# ------------------------------------------------------ a private AWS setup
# Nothing from the caller's environment may leak in: their credentials or
# profile would make the demo prove nothing (or touch a real account).
while IFS= read -r name; do
    unset "$name"
done < <(compgen -e | grep '^AWS_' || true)

mkdir -p "$tmp/home" "$tmp/bin"
export HOME="$tmp/home"
export AWS_CONFIG_FILE="$tmp/config"
export AWS_SHARED_CREDENTIALS_FILE="$tmp/credentials"
export AWS_ENDPOINT_URL="$endpoint"
# `aws` is the venv's AWS CLI v1, which honours AWS_ENDPOINT_URL (Debian's v2
# predates it). The binary is linked in so the commands read as a user types them.
ln -s "$binary" "$tmp/bin/assume-role"
export PATH="$tmp/bin:$venv/bin:$PATH"

cat >"$AWS_CONFIG_FILE" <<EOF
[profile contractor]
region = us-east-1

[profile client-prod]
role_arn = $client_role_arn
source_profile = contractor
external_id = $client_external_id
mfa_serial = $mfa_serial
mfa_process = echo 123456
region = us-east-1
# Two hours: over the one hour an MFA session allows, so the code goes straight to AssumeRole.
# (moto's GetSessionToken hands out keys its own signature checks reject.)
duration_seconds = 7200

[profile client-readonly]
role_arn = $second_role_arn
source_profile = client-prod
EOF

cat >"$AWS_SHARED_CREDENTIALS_FILE" <<EOF
[contractor]
aws_access_key_id = $access_key_id
aws_secret_access_key = $secret_access_key
EOF

say "the AWS config used (credentials file holds the contractor's keys)"
cat "$AWS_CONFIG_FILE"

client_admin_arn="arn:aws:sts::222222222222:assumed-role/client-admin/"
client_second_arn="arn:aws:sts::222222222222:assumed-role/client-second/"

# Print a command as typed, then run it.
run() {
    printf '+ %s\n' "$*"
    "$@"
}

# Run a command, show its output, and require `expected` somewhere in it: an
# exit status of 0 alone would not show *whose* credentials were used.
run_expect() {
    local expected="$1" output
    shift
    printf '+ %s\n' "$*"
    output="$("$@")" || fail "exit status $? from: $*"
    printf '%s\n' "$output"
    case "$output" in
    *"$expected"*) ;;
    *) fail "expected '$expected' in the output of: $*" ;;
    esac
}

# ------------------------------------------------------------------ steps
say "1. list the profiles"
run assume-role list

say "2. run a command as the client's admin role (external ID + MFA code from mfa_process)"
run_expect "$client_admin_arn" assume-role exec client-prod -- aws sts get-caller-identity

say "3. the client's S3 buckets, seen through the assumed role"
run_expect "$bucket" assume-role exec client-prod -- aws s3 ls

say "4. export the credentials into the current shell"
printf '+ %s\n' 'eval "$(assume-role env client-prod)"; aws sts get-caller-identity'
output="$(
    eval "$(assume-role env client-prod)"
    aws sts get-caller-identity
)" || fail "eval of 'assume-role env client-prod' then aws sts get-caller-identity"
printf '%s\n' "$output"
case "$output" in *"$client_admin_arn"*) ;; *) fail "env: not running as client-admin" ;; esac

# Secrets are cut to 4 characters: the point is the shape of the output.
printf '+ %s\n' 'assume-role env client-prod --format fish   # secrets masked'
assume-role env client-prod --format fish |
    sed -E 's/((AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN)[ =]+["'\'']?)([^"'\'' ;]{4})[^"'\'' ;]*/\1\3.../'

say "5. as a credential_process for any AWS SDK or tool"
cat >>"$AWS_CONFIG_FILE" <<EOF

[profile via-process]
credential_process = $binary credential-process client-prod
region = us-east-1
EOF
echo "[profile via-process]"
echo "credential_process = $binary credential-process client-prod"
run_expect "$client_admin_arn" aws sts get-caller-identity --profile via-process

say "6. a two-hop chain: contractor -> client-admin -> client-second"
run_expect "$client_second_arn" assume-role exec client-readonly -- aws sts get-caller-identity

say "7. the cache: one STS call per session, reused by every step above (no secrets shown)"
run assume-role cache list
