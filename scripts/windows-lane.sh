#!/usr/bin/env bash
# The Windows lane: cross-builds the Windows exe (x86_64-pc-windows-gnu, with mingw) and tests
# it under Wine on this Linux machine:
#   1. the unit tests, run by Wine (`cargo test --target … --lib` with Wine as the runner);
#   2. the Windows integration subset (tests/cli/windows.rs): the Windows exe against moto on
#      loopback (moto runs on the Linux side), driven by the Linux test binary.
# .ci/run runs it after scripts/test.sh; a developer can run it alone.
#
# It installs what it needs (mingw, Wine, the Rust target), best effort. If they cannot be
# installed, it prints a SKIP line that says why and exits 0: the only case where the lane may
# be skipped. ASSUME_ROLE_REQUIRE_WINDOWS_LANE=1 turns that skip into a failure.
#
# Wine needs one shim, scripts/windows/bcryptprimitives.c (see its comment); it is built here
# and put into the temporary Wine prefix only, never next to the exe.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

target=x86_64-pc-windows-gnu
lane_start=$SECONDS
step() { printf '\n==> windows lane: %s (%ss so far)\n' "$*" "$((SECONDS - lane_start))" >&2; }

skip() {
    {
        echo
        echo "##############################################################################"
        echo "SKIP: the Windows lane did NOT run: $*"
        echo "  The Windows exe was not built or tested. Install gcc-mingw-w64-x86-64 and wine"
        echo "  (Debian/Ubuntu) and the Rust target (rustup target add $target), then run"
        echo "  bash scripts/windows-lane.sh"
        echo "##############################################################################"
    } >&2
    if [ "${ASSUME_ROLE_REQUIRE_WINDOWS_LANE:-}" = 1 ]; then
        echo "error: ASSUME_ROLE_REQUIRE_WINDOWS_LANE=1, so a skipped Windows lane fails the run" >&2
        exit 1
    fi
    exit 0
}

step "tools (mingw, Wine, the $target target)"
missing_packages=()
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || missing_packages+=(gcc-mingw-w64-x86-64)
command -v wine >/dev/null 2>&1 || missing_packages+=(wine wine64)
if [ "${#missing_packages[@]}" -gt 0 ]; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        skip "${missing_packages[*]} missing, and this machine cannot install them here (needs root and apt-get)"
    fi
    echo "== installing ${missing_packages[*]} (apt-get)" >&2
    if ! { apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing_packages[@]}"; } >&2; then
        skip "apt-get could not install ${missing_packages[*]} (see its output above)"
    fi
fi
if ! rustc --print target-libdir --target "$target" >/dev/null 2>&1 ||
    [ ! -d "$(rustc --print target-libdir --target "$target")" ]; then
    command -v rustup >/dev/null 2>&1 || skip "the $target target is missing, and there is no rustup to add it"
    rustup target add "$target" >&2 || skip "rustup could not add the $target target"
fi
wine --version >&2
x86_64-w64-mingw32-gcc --version | head -n 1 >&2

# Wine writes its prefix, and some state, under HOME: both go into a temporary directory that
# goes away with the lane. Cargo and rustup keep their own homes.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
lane_tmp="$(mktemp -d "${TMPDIR:-/tmp}/assume-role-windows-lane.XXXXXX")"
export HOME="$lane_tmp/home" WINEPREFIX="$lane_tmp/prefix" WINEDEBUG=-all
mkdir -p "$HOME"
cleanup() {
    wineserver -k >/dev/null 2>&1 || true
    rm -rf "$lane_tmp"
}
trap cleanup EXIT

step "Wine prefix, with the bcryptprimitives.dll shim"
# One Wine server for the whole lane, started first (it refuses to start beside one that
# wineboot left running): each run then starts without waiting for a server.
mkdir -p "$WINEPREFIX"
wineserver -p
wineboot -i >/dev/null 2>&1
x86_64-w64-mingw32-gcc -shared -O2 -Wall -Werror -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
    scripts/windows/bcryptprimitives.c -lbcrypt

# A debug build: it cross-builds in a fraction of a release build's time and runs the same
# code paths under Wine.
step "cross-build (debug, $target)"
cargo build --locked --target "$target"
target_dir="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
exe="$target_dir/$target/debug/assume-role.exe"
if ! version="$(wine "$exe" --version)"; then
    echo "error: the Windows exe does not start under Wine (exit 53 means the bcryptprimitives.dll shim is not loaded)" >&2
    exit 1
fi
echo "$version (Windows exe, under Wine)" >&2

step "unit tests under Wine"
CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine cargo test --locked --target "$target" --lib

step "Windows integration tests (tests/cli/windows.rs): the Windows exe against moto"
if [ -z "${ASSUME_ROLE_TEST_PYTHON:-}" ]; then
    bash scripts/venv.sh
    export ASSUME_ROLE_TEST_PYTHON="${ASSUME_ROLE_VENV:-$repo_root/.venv}/bin/python"
fi
expected="$(grep -c '^#\[test\]' tests/cli/windows.rs)"
log="$lane_tmp/windows-tests.log"
ASSUME_ROLE_TEST_WINDOWS_EXE="$exe" ASSUME_ROLE_TEST_WINE="$(command -v wine)" \
    cargo test --locked --test cli windows:: 2>&1 | tee "$log"
# The tests skip themselves when the lane's variables are missing; here every one must have run.
passed="$(grep -c '^test windows::.* ok$' "$log" || true)"
if [ "$passed" != "$expected" ] || grep -q 'the Windows lane is not running' "$log"; then
    echo "error: $passed of the $expected tests in tests/cli/windows.rs passed under Wine" >&2
    exit 1
fi

step "done: $passed Windows integration tests and the unit tests passed under Wine in $((SECONDS - lane_start))s"
