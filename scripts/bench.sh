#!/usr/bin/env bash
# Benchmarks: builds the release binary and the test venv, then runs scripts/bench.py.
# Extra arguments go to bench.py (for example `--runs 100 --json figures.json`).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
cargo build --release --locked --quiet
bash scripts/venv.sh
venv="${ASSUME_ROLE_VENV:-$repo_root/.venv}"
# An inherited RUST_BACKTRACE would make every error path capture a backtrace.
unset RUST_BACKTRACE RUST_LIB_BACKTRACE
exec "$venv/bin/python" scripts/bench.py --python "$venv/bin/python" "$@"
