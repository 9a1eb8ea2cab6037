#!/usr/bin/env bash
# Build the container stack's images on a machine no container registry reaches.
#
#   docker/build-offline.sh            build (or reuse) gosstand-base, -redis, -haproxy, -mocks:offline
#   docker/build-offline.sh --force    rebuild everything
#
# Needs: root (debootstrap), a running Docker daemon, Debian's package mirror (or
# GOSSTAND_DEBIAN_MIRROR pointing at a local one) and PyPI (or pip configured for a local index)
# for the wheelhouse. On Debian 12:
#   apt-get install -y docker.io debootstrap
#   dockerd --iptables=false --bridge=none >/var/log/dockerd.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."
python=.venv/bin/python
[ -x "$python" ] || python=python3
command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || {
  echo "debootstrap is missing: apt-get install -y debootstrap" >&2; exit 1; }
exec "$python" -m gosstand containers build --offline "$@"
