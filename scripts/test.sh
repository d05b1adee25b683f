#!/usr/bin/env bash
# The one command that runs the whole test suite: formatting, lints, unit and
# integration tests. Works from any directory on a machine that has the Rust
# toolchain and python3; moto, boto3 and the AWS CLI v1 are installed into a
# local virtualenv by scripts/venv.sh. The tests also run the shells that read
# what `env` prints (sh, bash, dash, zsh, fish): one that is missing is skipped
# with a note, except under CI=true, where it fails (.ci/run installs them).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

step() { printf '\n==> %s\n' "$*" >&2; }

step "python test environment (scripts/venv.sh)"
bash scripts/venv.sh
venv="${ASSUME_ROLE_VENV:-$repo_root/.venv}"
if [ -x "$venv/Scripts/python.exe" ]; then
    python="$venv/Scripts/python.exe"
else
    python="$venv/bin/python"
fi
# The integration tests spawn tests/cli/support/moto_fixture.py with this
# interpreter. PATH is left alone on purpose: tests that need `aws` find it in
# the venv themselves, so the tool under test never picks it up by accident.
export ASSUME_ROLE_TEST_PYTHON="$python"

step "cargo fmt --all -- --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets --locked -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings

step "cargo test --locked"
cargo test --locked
