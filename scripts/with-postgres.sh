#!/usr/bin/env bash
# Runs a command beside a throw-away PostgreSQL cluster on loopback, and removes the cluster afterwards.
#
#   scripts/with-postgres.sh COMMAND [ARG…]
#
# Installs Debian's postgresql if it is missing (as root, or through sudo; its own service is kept from starting),
# creates a cluster in a temporary directory as an unprivileged user (`postgres` when run as root: initdb refuses
# root), starts it on 127.0.0.1 at a free port with its socket in that directory, and runs COMMAND with
# SPARROW_TEST_POSTGRES_URL set to a database of its own (`postgres://sparrow@127.0.0.1:PORT/sparrow`, trusted on
# loopback). The cluster is stopped and its
# directory removed when COMMAND ends, however it ends; COMMAND's status is the script's.
#
# The cluster syncs nothing (`fsync=off`): it lives for one run, and a test that kills a worker kills the worker,
# never the machine. `synchronous_commit` stays on, so a commit PostgreSQL acknowledged survives PostgreSQL itself.
set -euo pipefail
(($# > 0)) || { echo "usage: $0 COMMAND [ARG…]" >&2; exit 2; }

version=15
bin=/usr/lib/postgresql/$version/bin
if [[ ! -x $bin/initdb ]]; then
  sudo=""
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null || { echo "PostgreSQL $version is missing; run as root to install it" >&2; exit 1; }
    sudo=sudo
  fi
  echo "installing postgresql-$version from Debian" >&2
  policy=""
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then  # the package would start a cluster of its own on :5432
    policy=1
    trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT  # also when the installation fails
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod 755 /usr/sbin/policy-rc.d
  fi
  $sudo apt-get update -q >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "postgresql-$version" >&2
  [[ -z $policy ]] || { $sudo rm -f /usr/sbin/policy-rc.d; trap - EXIT; }
fi

# The cluster's owner: initdb runs as an unprivileged user; root runs it as `postgres`, anyone else as themselves.
as_owner() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

dir=$(mktemp -d /tmp/sparrow-postgres.XXXXXX)
stop() {
  as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT
[[ $(id -u) != 0 ]] || chown postgres: "$dir"

as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
# The port is free when picked, and may be taken before the server binds it: then another is tried.
for attempt in 1 2 3; do
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  options="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off"
  options+=" -c full_page_writes=off -c max_connections=200"
  as_owner "$bin/pg_ctl" -D "$dir/data" -o "$options" -l "$dir/server.log" -w -t 60 start >/dev/null && break
  ((attempt < 3)) || { cat "$dir/server.log" >&2; exit 1; }
done
as_owner "$bin/psql" -h "$dir" -p "$port" -U postgres -q -v ON_ERROR_STOP=1 \
  -c "CREATE ROLE sparrow LOGIN CREATEDB" -c "CREATE DATABASE sparrow OWNER sparrow" >/dev/null
echo "PostgreSQL $version on 127.0.0.1:$port (throw-away cluster in $dir)" >&2

export SPARROW_TEST_POSTGRES_URL="postgres://sparrow@127.0.0.1:$port/sparrow"
status=0
"$@" || status=$?
exit $status
