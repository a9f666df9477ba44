#!/usr/bin/env bash
# Installs the real servers leakwatch's integration tests run against, from
# Debian's packages. Idempotent: packages already present are skipped.
# Services are NOT started by the package scripts (policy-rc.d): every test
# starts its own server on its own loopback address.
set -euo pipefail

PKGS=(
  redis-server memcached postgresql mariadb-server nginx apache2-utils
  mosquitto mosquitto-clients nats-server etcd-server etcd-client zookeeperd clickhouse-server
  influxdb docker-registry vsftpd rsync rabbitmq-server prometheus
  jupyter-notebook exim4-daemon-light sasl2-bin libsasl2-modules curl time
  chromium fonts-dejavu-core
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
# Keep package scripts from starting daemons on default ports.
printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
$SUDO chmod +x /usr/sbin/policy-rc.d
trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
