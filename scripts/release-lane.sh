#!/usr/bin/env bash
# The release lane: builds the x86_64-unknown-linux-musl release exactly as the release workflow
# does (scripts/release.sh, into a temporary directory), then tests what it made: the archive's
# contents, sha256.sum, the SBOM, and install.sh installing the archive from a loopback server,
# after which the static binary must run (tests/cli/release.rs, install_the_real_release).
# .ci/run runs it after scripts/test.sh and before the Windows lane; it takes a release build (about 8 minutes on 2 cores)
# plus, on a fresh machine, installing the pinned release tools (cargo-auditable,
# cargo-cyclonedx, cargo-zigbuild, zig) under target/.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
lane_start=$SECONDS
target=x86_64-unknown-linux-musl
step() { printf '\n==> release lane: %s (%ss so far)\n' "$*" "$((SECONDS - lane_start))" >&2; }

out="$(mktemp -d "${TMPDIR:-/tmp}/assume-role-release-lane.XXXXXX")"
trap 'rm -rf "$out"' EXIT

step "bash scripts/release.sh $target"
bash scripts/release.sh "$target" "$out/dist"

step "the release, tested (tests/cli/release.rs)"
if [ -z "${ASSUME_ROLE_TEST_PYTHON:-}" ]; then
    bash scripts/venv.sh
    export ASSUME_ROLE_TEST_PYTHON="${ASSUME_ROLE_VENV:-$repo_root/.venv}/bin/python"
fi
log="$out/test.log"
ASSUME_ROLE_TEST_RELEASE_DIR="$out/dist" cargo test --locked --test cli release::install_the_real_release -- --nocapture 2>&1 | tee "$log"
# The test returns early when the variable is missing; here it must have run.
if ! grep -q '^test release::install_the_real_release ... ok$' "$log" || grep -q 'the release lane is not running' "$log"; then
    echo "error: release::install_the_real_release did not pass" >&2
    exit 1
fi
step "done in $((SECONDS - lane_start))s"
