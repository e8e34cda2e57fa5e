#!/usr/bin/env bash
# `make screenshots`: without a colour emoji font, Chromium draws the pictures' emoji
# (reactions, messages) as empty boxes. Debian's is fonts-noto-color-emoji.
set -euo pipefail
if ! command -v fc-list >/dev/null 2>&1 || fc-list | grep -qi emoji; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing fonts-noto-color-emoji for the screenshots' emoji"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-color-emoji >/dev/null
else
  echo "no emoji font (apt-get install fonts-noto-color-emoji): emoji will show as boxes" >&2
fi
