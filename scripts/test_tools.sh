#!/usr/bin/env bash
# Tools the tests use that PyPI does not ship, from Debian's packages:
# - docker-compose (v1), to validate the compose file offline with `docker-compose config` (no Docker engine needed);
# - chromium and chromium-driver, for the dashboard's browser test (Selenium drives /usr/bin/chromium through
#   /usr/bin/chromedriver; nothing is downloaded at test time).
set -euo pipefail
packages=()
if ! command -v docker-compose >/dev/null 2>&1; then
  packages+=(docker-compose)
fi
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  packages+=(chromium chromium-driver fonts-liberation)  # a font the screenshots read well in
fi
if [ ${#packages[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing test tools: install Debian's packages (sudo apt-get install -y ${packages[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
command -v docker-compose
ls /usr/bin/chromium /usr/bin/chromedriver
