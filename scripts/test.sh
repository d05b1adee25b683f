#!/usr/bin/env bash
# The one command that runs the whole test suite: formatting, lints, unit and
# integration tests, the book (docs/) and its examples. Works from any directory on a machine that has the Rust
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

step "cargo test --locked (the docs target, tests/docs.rs, runs every example in docs/ and README.md)"
cargo test --locked

# The book: mdBook reports a missing page or include as an error; the links and anchors inside
# pages, which it does not check, are checked by `cargo test --test docs` above.
step "mdbook build docs"
mdbook_version=0.5.4
mdbook="$repo_root/target/ci-tools/mdbook-$mdbook_version/bin/mdbook"
[ -x "$mdbook" ] || mdbook="$(command -v mdbook || true)"
if [ -z "$mdbook" ] || ! "$mdbook" --version | grep -q "v$mdbook_version"; then
    if [ "${CI:-}" = true ]; then
        echo "error: mdbook $mdbook_version is not installed (.ci/run installs it)" >&2
        exit 1
    fi
    echo "note: mdbook $mdbook_version is not installed; the book is not built (fix: cargo install mdbook --version $mdbook_version --locked)" >&2
else
    mdbook_log="$(mktemp)"
    "$mdbook" build docs 2>&1 | tee "$mdbook_log" >&2
    if grep -qE '(WARN|ERROR)' "$mdbook_log"; then
        rm -f "$mdbook_log"
        echo "error: mdbook warned; the book must build cleanly" >&2
        exit 1
    fi
    rm -f "$mdbook_log"
fi
