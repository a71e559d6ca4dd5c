#!/bin/sh
# Installs the Debian packages listed in ci/apt-packages.txt (as root or via sudo).
set -eu
list="$(dirname "$0")/apt-packages.txt"
missing=""
for p in $(grep -v '^[[:space:]]*#' "$list"); do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
  echo "install-deps: all packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo=sudo
echo "install-deps: installing$missing"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
