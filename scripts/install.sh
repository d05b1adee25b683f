#!/bin/sh
# Installs assume-role from a GitHub release: downloads this machine's archive and the release's
# sha256.sum, checks the archive against it, and puts its two programs (assume-role and
# assume-role-full) into ~/.local/bin (or --to DIR).
#
#   curl -fsSLO https://github.com/OWNER/REPO/releases/latest/download/install.sh
#   sh install.sh [--version VERSION] [--to DIR]
#
# It never needs root and never runs what it downloads through a shell. A checksum that does not
# match, a missing tool or a platform without a release stops it before anything is installed:
# the archive is unpacked in a temporary directory and the programs renamed into place at the end.
#
# ASSUME_ROLE_DOWNLOAD_URL: the directory holding the archives and sha256.sum, instead of the
# GitHub release (a mirror, or a test's loopback server); --version is then not used.
set -eu

# The release workflow writes the repository it publishes from here (scripts/release.sh).
default_repo=assume-role/assume-role

me=install.sh
say() { printf '%s: %s\n' "$me" "$*" >&2; }
die() {
    printf '%s: error: %s\n' "$me" "$1" >&2
    shift
    for line in "$@"; do printf '  %s\n' "$line" >&2; done
    printf '  nothing was installed\n' >&2
    exit 1
}

usage() {
    cat <<EOF
usage: sh install.sh [--version VERSION] [--to DIR]

Installs assume-role for this machine from its GitHub release ($default_repo), after checking
the archive against the release's sha256.sum.

  --version VERSION  a release such as 0.2.0 or v0.2.0 (default: the latest)
  --to DIR           where the programs go (default: ~/.local/bin); made if missing

ASSUME_ROLE_DOWNLOAD_URL  download from this directory instead of the GitHub release
EOF
}

version=
to=
while [ "$#" -gt 0 ]; do
    case "$1" in
    --version)
        [ "$#" -ge 2 ] || die "--version needs a value, such as --version 0.2.0"
        version="$2"
        shift 2
        ;;
    --version=*)
        version="${1#*=}"
        shift
        ;;
    --to)
        [ "$#" -ge 2 ] || die "--to needs a directory"
        to="$2"
        shift 2
        ;;
    --to=*)
        to="${1#*=}"
        shift
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        usage >&2
        die "unknown argument \`$1\`"
        ;;
    esac
done

# --- the platform -------------------------------------------------------------------------------

os="$(uname -s 2>/dev/null || echo unknown)"
arch="$(uname -m 2>/dev/null || echo unknown)"
exe=assume-role
ext=tar.gz
case "$os" in
Linux)
    case "$arch" in
    x86_64 | amd64) target=x86_64-unknown-linux-musl ;;
    aarch64 | arm64) target=aarch64-unknown-linux-musl ;;
    *) target= ;;
    esac
    ;;
Darwin)
    case "$arch" in
    x86_64)
        # An x86_64 shell under Rosetta on Apple silicon: the native build is the one to have.
        if [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || echo 0)" = 1 ]; then
            target=aarch64-apple-darwin
        else
            target=x86_64-apple-darwin
        fi
        ;;
    arm64 | aarch64) target=aarch64-apple-darwin ;;
    *) target= ;;
    esac
    ;;
MINGW* | MSYS* | CYGWIN*)
    case "$arch" in
    x86_64 | amd64) target=x86_64-pc-windows-gnu exe=assume-role.exe ext=zip ;;
    *) target= ;;
    esac
    ;;
*) target= ;;
esac
if [ -z "$target" ]; then
    die "there is no release build for this platform ($os $arch)" \
        "releases are built for Linux (x86_64, aarch64), macOS (x86_64, arm64) and Windows (x86_64)" \
        "fix: build it from source: cargo install --locked assume-role"
fi

# --- the tools, all checked before anything is downloaded -----------------------------------------

have() { command -v "$1" >/dev/null 2>&1; }
if have curl; then
    downloader=curl
elif have wget; then
    downloader=wget
else
    die "neither curl nor wget is installed; one is needed to download the release" \
        "fix: install curl (Debian/Ubuntu: apt-get install curl), then run sh install.sh again"
fi
if have sha256sum; then
    hasher=sha256sum
elif have shasum; then
    hasher=shasum
else
    die "neither sha256sum nor shasum is installed; one is needed to check the download" \
        "fix: install coreutils (sha256sum) or perl (shasum), then run sh install.sh again"
fi
if [ "$ext" = zip ]; then
    have unzip || die "unzip is not installed; it is needed to unpack the Windows archive" \
        "fix: install unzip, then run sh install.sh again"
else
    have tar || die "tar is not installed; it is needed to unpack the archive" \
        "fix: install tar, then run sh install.sh again"
    have gzip || die "gzip is not installed; tar needs it to unpack the archive" \
        "fix: install gzip, then run sh install.sh again"
fi
have mktemp || die "mktemp is not installed" "fix: install coreutils, then run sh install.sh again"

# --- where from, where to -----------------------------------------------------------------------

if [ -n "${ASSUME_ROLE_DOWNLOAD_URL:-}" ]; then
    base="${ASSUME_ROLE_DOWNLOAD_URL%/}"
elif [ -n "$version" ]; then
    base="https://github.com/$default_repo/releases/download/v${version#v}"
else
    base="https://github.com/$default_repo/releases/latest/download"
fi
if [ -z "$to" ]; then
    [ -n "${HOME:-}" ] || die "HOME is not set, so there is no ~/.local/bin" "fix: name a directory with --to DIR"
    to="$HOME/.local/bin"
fi
archive="assume-role-$target.$ext"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/assume-role-install.XXXXXX")" || die "could not make a temporary directory"
# The staged copies too, once there are any (below).
staged_full='' staged_exe=''
cleanup() { rm -rf "$tmp" ${staged_full:+"$staged_full"} ${staged_exe:+"$staged_exe"}; }
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

# Downloads $1 to $2. HTTPS stays HTTPS through redirects.
download() {
    case "$1" in
    https://*)
        if [ "$downloader" = curl ]; then
            curl -fsSL --proto '=https' --tlsv1.2 --retry 3 -o "$2" "$1"
        else
            wget -q --https-only -O "$2" "$1"
        fi
        ;;
    *)
        if [ "$downloader" = curl ]; then
            curl -fsSL --retry 3 -o "$2" "$1"
        else
            wget -q -O "$2" "$1"
        fi
        ;;
    esac
}

say "downloading $archive from $base"
download "$base/$archive" "$tmp/$archive" || die "could not download $base/$archive" \
    "check the version (--version) and your network; releases: https://github.com/$default_repo/releases"
download "$base/sha256.sum" "$tmp/sha256.sum" || die "could not download $base/sha256.sum"

# --- the check ----------------------------------------------------------------------------------

# sha256.sum lines are `HASH  NAME` (or `HASH *NAME`).
expected=
while read -r hash name; do
    if [ "${name#\*}" = "$archive" ]; then
        expected="$hash"
    fi
done <"$tmp/sha256.sum"
[ -n "$expected" ] || die "sha256.sum has no line for $archive, so the download cannot be checked"
if [ "$hasher" = sha256sum ]; then
    actual="$(sha256sum "$tmp/$archive")"
else
    actual="$(shasum -a 256 "$tmp/$archive")"
fi
actual="${actual%% *}"
if [ "$actual" != "$expected" ]; then
    die "checksum mismatch for $archive: the download is not what the release published" \
        "expected sha256 $expected" \
        "got      sha256 $actual" \
        "try again later; if it persists, report it (the file or the mirror may have been altered)"
fi
say "sha256 checked: $actual"

# --- unpack, then move into place -----------------------------------------------------------------

mkdir "$tmp/unpacked"
if [ "$ext" = zip ]; then
    unzip -q "$tmp/$archive" -d "$tmp/unpacked" || die "could not unpack $archive"
else
    (cd "$tmp/unpacked" && gzip -dc "$tmp/$archive" | tar -xf -) || die "could not unpack $archive"
fi
# Two programs: `assume-role`, and `assume-role-full`, the whole program it hands most command
# lines to; they are installed side by side.
full="assume-role-full${exe#assume-role}"
dir="$tmp/unpacked/assume-role-$target"
for program in "$exe" "$full"; do
    [ -f "$dir/$program" ] || die "$archive holds no assume-role-$target/$program"
    chmod 755 "$dir/$program"
done
got="$("$dir/$exe" --version 2>/dev/null)" || die "the downloaded binary does not run on this machine ($os $arch)"

mkdir -p "$to" 2>/dev/null || die "could not make $to" "fix: choose a directory you can write with --to DIR"
[ -w "$to" ] || die "$to is not writable" "fix: choose a directory you can write with --to DIR (no root needed)"
# Both copied beside the destination first, then renamed into place: a running assume-role is
# never half-overwritten, a failed copy installs nothing, and the renames come last (the whole
# program first: the front it replaces hands over to it as to its own).
staged_full="$to/.$full.install.$$"
staged_exe="$to/.$exe.install.$$"
for program in "$full" "$exe"; do
    staged="$to/.$program.install.$$"
    { cp "$dir/$program" "$staged" && chmod 755 "$staged"; } || die "could not write into $to"
done
mv -f "$staged_full" "$to/$full" || die "could not move $full into $to"
if ! mv -f "$staged_exe" "$to/$exe"; then
    printf '%s: error: %s\n' "$me" "installed $to/$full, but could not move $exe into $to" >&2
    printf '  fix: make %s replaceable and run this again\n' "$to/$exe" >&2
    exit 1
fi

say "installed $got to $to/$exe"
case ":${PATH:-}:" in
*":$to:"*) ;;
*) say "note: $to is not on your PATH; add it, e.g. in ~/.profile: export PATH=\"$to:\$PATH\"" ;;
esac
say "next: assume-role --help; completions: assume-role completions SHELL; manual: assume-role man"
