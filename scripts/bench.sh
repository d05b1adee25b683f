#!/usr/bin/env bash
# Benchmarks: builds the release binary, the test venv and the peers to compare with, then runs
# scripts/bench.py. Extra arguments go to bench.py (for example `--runs 100 --json figures.json`).
#
# Peers: awsume (PyPI) in its own venv, for the cold path; the AWS CLI v2 (Debian's `awscli`
# package) for the warm path, installed with apt-get when running as root.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
cargo build --release --locked --quiet
bash scripts/venv.sh
venv="${ASSUME_ROLE_VENV:-$repo_root/.venv}"

bench_venv="$repo_root/.venv-bench"
if [ ! -x "$bench_venv/bin/awsumepy" ]; then
    python3 -m venv "$bench_venv" >&2
    "$bench_venv/bin/pip" install --quiet --disable-pip-version-check awsume==4.5.4 >&2
fi
if ! /usr/bin/aws --version 2>/dev/null | grep -q 'aws-cli/2' && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq awscli; } >&2 ||
        echo "bench: could not install the AWS CLI v2; that comparison is skipped" >&2
fi

# An inherited RUST_BACKTRACE would make every error path capture a backtrace.
unset RUST_BACKTRACE RUST_LIB_BACKTRACE
exec "$venv/bin/python" scripts/bench.py --python "$venv/bin/python" --awsume "$bench_venv/bin/awsumepy" "$@"
