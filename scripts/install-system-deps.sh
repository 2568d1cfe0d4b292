#!/usr/bin/env bash
# System packages the browser tests and the PDF brief need (Debian):
#   chromium       - the browser Playwright drives (Playwright's own download cannot work here)
#   libpango*      - text layout for WeasyPrint, which renders the PDF brief
#   fonts-dejavu   - a font with the glyphs the page and the brief use
#   graphviz       - `dot`, which lays out causal-loop diagrams (report/cld.py; without it
#                    a networkx layout is used, which crowds large diagrams)
# Idempotent: when everything is present it only checks and returns (well under a second).
set -euo pipefail

packages=(chromium libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core graphviz)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "install-system-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=
fi
echo "install-system-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
