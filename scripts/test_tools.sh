#!/usr/bin/env bash
# Tools the tests use that PyPI does not ship: Debian's docker-compose (v1), to validate the compose
# file offline with `docker-compose config` (no Docker engine needed).
set -euo pipefail
if command -v docker-compose >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "docker-compose is missing: install Debian's package (sudo apt-get install -y docker-compose)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
command -v docker-compose
