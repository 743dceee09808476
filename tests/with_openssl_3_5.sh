#!/usr/bin/env bash
# Runs a command with Deno loading OpenSSL 3.5 (Debian 13's libssl3t64) instead of the system's libssl:
#   tests/with_openssl_3_5.sh deno task test
# Debian 13's libssl needs glibc 2.38 or later, so its libc comes along: both are unpacked (not installed)
# into .cache/openssl-3.5, and a copy of the deno binary gets that folder's dynamic loader as its interpreter
# and the folder as its library path. Run as that copy (first on PATH here), deno, and every child it starts
# through Deno.execPath(), loads glibc 2.41 and OpenSSL 3.5. Prepared once, then cached.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="$root/.cache/openssl-3.5"
system_deno="$(readlink -f "$(command -v deno)")"
stamp="$("$system_deno" --version | head -1)"

if [ ! -x "$cache/bin/deno" ] || [ "$(cat "$cache/stamp" 2>/dev/null)" != "$stamp" ]; then
  echo "preparing OpenSSL 3.5 in $cache" >&2
  rm -rf "$cache"
  mkdir -p "$cache/apt/lists/partial" "$cache/apt/sources.list.d" "$cache/apt/cache/archives/partial" \
    "$cache/debs" "$cache/root" "$cache/bin"
  cat >"$cache/apt/sources.list.d/trixie.sources" <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  apt_options=(
    -o "Dir::Etc::SourceList=/dev/null"
    -o "Dir::Etc::SourceParts=$cache/apt/sources.list.d"
    -o "Dir::State::Lists=$cache/apt/lists"
    -o "Dir::Cache=$cache/apt/cache"
    -o "Dir::State::status=/dev/null"
    -o "APT::Sandbox::User=root"
  )
  apt-get "${apt_options[@]}" -qq update
  (cd "$cache/debs" && apt-get "${apt_options[@]}" -qq download libssl3t64 libc6)
  for deb in "$cache"/debs/*.deb; do dpkg -x "$deb" "$cache/root"; done
  command -v patchelf >/dev/null 2>&1 || {
    echo "installing patchelf from Debian" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq patchelf >/dev/null
  }
  lib="$cache/root/usr/lib/x86_64-linux-gnu"
  cp "$system_deno" "$cache/bin/deno"
  patchelf --set-interpreter "$lib/ld-linux-x86-64.so.2" --force-rpath --set-rpath "$lib" "$cache/bin/deno"
  echo "$stamp" >"$cache/stamp"
fi

export PATH="$cache/bin:$PATH"
"$cache/bin/deno" eval --quiet --allow-ffi \
  "import { opensslVersion } from 'file://$root/mod.ts'; console.error('running with ' + opensslVersion());" >&2
exec "$@"
