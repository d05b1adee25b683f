#!/usr/bin/env bash
# Benchmarks: builds the release binary, the test venv and the peers to compare with, then runs
# scripts/bench.py. Extra arguments go to bench.py (for example `--runs 100 --json figures.json`,
# or `--startup-only` for issue 18's start-up figures alone).
#
# Start-up: beside the release build (`cargo build --release`, dynamic), the static binary a
# release ships (scripts/release.sh x86_64-unknown-linux-musl, on x86_64 Linux), each against
# examples/warm_floor.rs built the same way. CARGO_TARGET_DIR is honoured.
#
# Peers: awsume (PyPI) in its own venv, for the cold path; the AWS CLI v2 (Debian's `awscli`
# package) for the warm path, installed with apt-get when running as root.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
target_dir="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
# Two builds: an example brings in the dev-dependencies' features, which the binary must not get.
cargo build --release --locked --quiet --bins
cargo build --release --locked --quiet --example warm_floor
startup_args=(--floor "$target_dir/release/examples/warm_floor")
if [ "$(uname -sm)" = "Linux x86_64" ]; then
    static_target=x86_64-unknown-linux-musl
    bash scripts/release.sh "$static_target" "$target_dir/bench-release" 2>"$target_dir/bench-release.log" || {
        cat "$target_dir/bench-release.log" >&2
        exit 1
    }
    # The floor built exactly as release.sh builds the binary (its tools, its flags).
    PATH="$target_dir/release-tools/venv/bin:$target_dir/release-tools/bin:$PATH" \
        CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C target-feature=+crt-static -C relocation-model=static" \
        cargo auditable zigbuild --release --locked --quiet --target "$static_target" --example warm_floor
    startup_args+=(--static-bin "$target_dir/$static_target/release/assume-role"
        --static-floor "$target_dir/$static_target/release/examples/warm_floor")
fi
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
exec "$venv/bin/python" scripts/bench.py --python "$venv/bin/python" --awsume "$bench_venv/bin/awsumepy" \
    --bin "$target_dir/release/assume-role" "${startup_args[@]}" "$@"
