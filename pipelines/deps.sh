#!/usr/bin/env bash
# deps.sh PKG... - install the Debian packages that are missing.
# As root (or with sudo available) it runs apt-get; otherwise it prints the
# exact command and fails, so `make` stops with something to do.
set -eu
missing=()
for p in "$@"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
cmd=(apt-get install -y --no-install-recommends "${missing[@]}")
if [ "$(id -u)" -eq 0 ]; then
	sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	sudo=(sudo)
else
	echo "deps: missing Debian packages; run:" >&2
	echo "  sudo ${cmd[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" "${cmd[@]}" >&2; then
	"${sudo[@]}" apt-get update >&2
	"${sudo[@]}" "${cmd[@]}" >&2
fi
