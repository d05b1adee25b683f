#!/usr/bin/env bash
# Builds what a release ships for one target, exactly as .github/workflows/release.yml does:
#
#   bash scripts/release.sh TARGET OUTDIR
#
# and writes into OUTDIR (created if missing; other targets' files are left alone):
#   assume-role-TARGET.tar.gz (.zip for Windows)  the binary, README.md, the licence files,
#                                                 doc/assume-role.1 and complete/ (every shell)
#   assume-role-TARGET.cdx.json                   CycloneDX SBOM of the target's dependencies,
#                                                 from Cargo.lock (cargo-cyclonedx)
#   install.sh                                    the installer (scripts/install.sh)
#   sha256.sum                                    every other file in OUTDIR, recomputed on each
#                                                 run, so targets built into one OUTDIR accumulate
#
# Targets: x86_64-unknown-linux-musl and aarch64-unknown-linux-musl (static and non-PIE, linked
# by zig through cargo-zigbuild, which also compiles aws-lc's C for musl), x86_64-pc-windows-gnu
# (mingw), and, on macOS only, x86_64-apple-darwin and aarch64-apple-darwin. Every binary is built
# with `cargo auditable`, so its dependency list is inside it (`cargo audit bin` reads it).
#
# The tools are pinned below and installed under the target directory
# (${CARGO_TARGET_DIR:-target}/release-tools: `cargo install --root`, and a venv for zig), never
# system-wide; a missing Rust target is added with rustup. CARGO_TARGET_DIR is honoured.
# ASSUME_ROLE_RELEASE_REPO (default: GITHUB_REPOSITORY, which the workflow sets) is the GitHub
# repository the shipped install.sh downloads from.
set -euo pipefail

cargo_auditable_version=0.7.7
cargo_cyclonedx_version=0.5.9
cargo_zigbuild_version=0.24.1
ziglang_version=0.15.2

if [ "$#" -ne 2 ]; then
    echo "usage: bash scripts/release.sh TARGET OUTDIR" >&2
    echo "  TARGET: x86_64-unknown-linux-musl, aarch64-unknown-linux-musl, x86_64-pc-windows-gnu," >&2
    echo "          x86_64-apple-darwin or aarch64-apple-darwin (the last two on macOS)" >&2
    exit 2
fi
target="$1"
mkdir -p "$2"
outdir="$(cd "$2" && pwd)"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
start=$SECONDS
step() { printf '\n==> release %s: %s (%ss so far)\n' "$target" "$*" "$((SECONDS - start))" >&2; }
die() {
    echo "error: $*" >&2
    exit 1
}

version="$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)"
[ -n "$version" ] || die "no version in Cargo.toml"
host="$(rustc -vV | sed -n 's/^host: //p')"
mkdir -p "${CARGO_TARGET_DIR:-$repo_root/target}"
target_dir="$(cd "${CARGO_TARGET_DIR:-$repo_root/target}" && pwd)"
export CARGO_TARGET_DIR="$target_dir"
tools="$target_dir/release-tools"
export PATH="$tools/bin:$PATH"
# Builds that do not depend on when or where they ran: the archives' timestamps are the last
# commit's, and the build directory does not leak into panic messages.
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"

# cargo install of a pinned version into $tools, unless that version is there already.
cargo_tool() {
    local crate="$1" version="$2"
    if [ -x "$tools/bin/$crate" ] && [ "$(cat "$tools/$crate.version" 2>/dev/null)" = "$version" ]; then
        return
    fi
    step "installing $crate $version into $tools"
    CARGO_TARGET_DIR="$tools/build" cargo install --locked --quiet --force --root "$tools" "$crate@$version" >&2
    # Only the installed binary is used again; its build is most of a gigabyte.
    rm -rf "$tools/build"
    echo "$version" >"$tools/$crate.version"
}

# Builds the release binary for $1 and prints its path.
build() {
    local t="$1" exe=assume-role cmd=(cargo auditable build)
    if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx "$t"; then
        rustup target add "$t" >&2
    fi
    # mimalloc reserves address space for its arena 1 GiB at a time and sets up that arena's
    # bitmaps in every run: 42 of a warm `prompt`'s 198 page faults, for a run that allocates a
    # few hundred KB. 64 MiB at a time cut a `prompt` from 0.87 to 0.74 ms (perf stat, 500 runs),
    # and parsing 10,000 profiles is no slower (a larger program gets further arenas). A C define,
    # as mimalloc reads its defaults at compile time, for the target's C builds only (the cc
    # crate reads CFLAGS_<target> before CFLAGS, so the user's CFLAGS are kept in it).
    local cflags_var
    cflags_var="CFLAGS_$(echo "$t" | tr - _)"
    export "$cflags_var=${CFLAGS:+$CFLAGS }-DMI_DEFAULT_ARENA_RESERVE=65536L"
    case "$t" in
    *-linux-musl)
        cargo_tool cargo-zigbuild "$cargo_zigbuild_version"
        if [ "$("$tools/venv/bin/python3" -m ziglang version 2>/dev/null)" != "$ziglang_version" ]; then
            step "installing ziglang $ziglang_version (PyPI) into $tools/venv"
            python3 -m venv "$tools/venv" >&2
            "$tools/venv/bin/pip" install --quiet --disable-pip-version-check "ziglang==$ziglang_version" >&2
        fi
        # cargo-zigbuild runs zig as `python3 -m ziglang` when no `zig` is on PATH; the venv's
        # python3 comes first for the build only.
        cmd=(env "PATH=$tools/venv/bin:$PATH" cargo auditable zigbuild)
        # Static and not position-independent: nothing for a loader to relocate at start-up
        # (musl's default is a static PIE, which relocates itself at every start). Only the
        # target sees these flags, not build scripts or proc macros.
        local flags_var
        flags_var="CARGO_TARGET_$(echo "$t" | tr 'a-z-' 'A-Z_')_RUSTFLAGS"
        export "$flags_var=-C target-feature=+crt-static -C relocation-model=static"
        ;;
    *-pc-windows-gnu)
        exe=assume-role.exe
        command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 ||
            die "x86_64-w64-mingw32-gcc is missing (Debian/Ubuntu: apt-get install gcc-mingw-w64-x86-64)"
        ;;
    *-apple-darwin)
        [ "$(uname -s)" = Darwin ] || die "$t is built on macOS only (the release workflow's macos runners)"
        ;;
    *) die "unsupported target \`$t\` (run bash scripts/release.sh alone for the list)" ;;
    esac
    step "${cmd[*]:2} --release --locked --target $t"
    "${cmd[@]}" --release --locked --target "$t" >&2 || die "the build for $t failed (see above)"
    local program
    for program in "$exe" "${exe/assume-role/assume-role-full}"; do
        [ -f "$target_dir/$t/release/$program" ] || die "the build left no $target_dir/$t/release/$program"
    done
    printf '%s\n' "$target_dir/$t/release/$exe"
}

step "tools (cargo-auditable $cargo_auditable_version, cargo-cyclonedx $cargo_cyclonedx_version)"
cargo_tool cargo-auditable "$cargo_auditable_version"
cargo_tool cargo-cyclonedx "$cargo_cyclonedx_version"

binary="$(build "$target")"
# The front (`assume-role`) and the whole program it hands over to, side by side
# (src/commands/front.rs).
exe_name="$(basename "$binary")"
full_binary="$(dirname "$binary")/${exe_name/assume-role/assume-role-full}"
case "$target" in
*-linux-musl)
    for program in "$binary" "$full_binary"; do
        description="$(file -b "$program")"
        echo "$(basename "$program"): $description" >&2
        case "$description" in
        *"statically linked"*) ;;
        *) die "$program is not statically linked: $description" ;;
        esac
    done
    ;;
esac

# The manual page and the completion scripts come from running the binary. One this machine
# cannot run (another architecture, Windows) is stood in for by the same release built for a
# target it can run, from the same source: the usual order builds x86_64-unknown-linux-musl
# first, and then cargo finds that build fresh and does nothing.
docs_binary="$binary"
if ! "$docs_binary" --version >/dev/null 2>&1; then
    case "$host" in
    x86_64-unknown-linux-gnu) docs_target=x86_64-unknown-linux-musl ;;
    *) docs_target="$host" ;;
    esac
    [ "$docs_target" != "$target" ] || die "$binary does not run on this machine"
    step "$target does not run here: the manual page and completions come from the $docs_target build"
    docs_binary="$(build "$docs_target")"
fi

step "archive"
name="assume-role-$target"
case "$target" in
*-windows-*) ext=zip ;;
*) ext=tar.gz ;;
esac
stage="$target_dir/release-stage/$name"
rm -rf "$stage"
mkdir -p "$stage/doc" "$stage/complete"
cp "$binary" "$full_binary" "$stage/"
cp README.md LICENSE* "$stage/"
"$docs_binary" man >"$stage/doc/assume-role.1"
# The scripts call the binary back by the absolute path of the one that printed them; a shipped
# script calls `assume-role` on PATH instead.
completion() {
    "$docs_binary" completions "$1" | sed "s|$docs_binary|assume-role|g" >"$stage/complete/$2"
}
completion bash assume-role.bash
completion zsh _assume-role
completion fish assume-role.fish
completion powershell _assume-role.ps1
completion elvish assume-role.elv
completion nushell assume-role.nu
if grep -rq "$target_dir" "$stage/doc" "$stage/complete"; then
    die "the manual page or a completion script names the build directory $target_dir"
fi
# GNU touch; BSD touch (macOS) has no `-d @SECONDS`, and those archives keep today's times.
find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} + 2>/dev/null || true
archive="$outdir/$name.$ext"
rm -f "$archive"
if [ "$ext" = zip ]; then
    (cd "$stage/.." && find "$name" | LC_ALL=C sort | python3 -c '
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for line in sys.stdin:
        z.write(line.rstrip("\n"))
' "$archive")
elif tar --version 2>/dev/null | grep -q 'GNU tar'; then
    (cd "$stage/.." && tar --sort=name --owner=0 --group=0 --numeric-owner -cf - "$name") | gzip -n -9 >"$archive"
else
    (cd "$stage/.." && tar -cf - "$name") | gzip -n -9 >"$archive"
fi

step "SBOM (CycloneDX, from Cargo.lock)"
# cargo-cyclonedx writes beside Cargo.toml; the file is moved out at once.
sbom_name="assume-role-$target.release-sbom"
cargo cyclonedx --format json --spec-version 1.5 --target "$target" --override-filename "$sbom_name" >&2
mv "$repo_root/$sbom_name.json" "$outdir/assume-role-$target.cdx.json"

step "install.sh and sha256.sum"
release_repo="${ASSUME_ROLE_RELEASE_REPO:-${GITHUB_REPOSITORY:-}}"
if [ -n "$release_repo" ]; then
    sed "s|^default_repo=.*|default_repo=$release_repo|" scripts/install.sh >"$outdir/install.sh"
else
    cp scripts/install.sh "$outdir/install.sh"
fi
(
    cd "$outdir"
    sums="$target_dir/release-stage/sha256.sum"
    find . -maxdepth 1 -type f ! -name sha256.sum | sed 's|^\./||' | LC_ALL=C sort |
        while IFS= read -r file; do
            if command -v sha256sum >/dev/null 2>&1; then sha256sum "$file"; else shasum -a 256 "$file"; fi
        done >"$sums"
    mv "$sums" sha256.sum
)
step "done: $archive ($(wc -c <"$archive" | tr -d ' ') bytes)"
ls -l "$outdir" >&2
