#!/usr/bin/env bash
# A learner's build of the seed lab (/work/shared/seed/container-networking-project.md): the
# seed's commands in the seed's order, typed out one per line, with no ecomnet code for the
# network. Phase 2 runs the seed's three Flask services, written out with heredocs as the seed
# does (learner/lib/services.sh, LEARNER_SERVICES=flask, the default), or ecomnet's TypeScript
# services in their place (LEARNER_SERVICES=ecomnet). Undo with learner/teardown.sh.
# Env: LEARNER_DIR (work dir, default /run/ecomnet-learner; root's alone), LEARNER_SERVICES,
# LEARNER_POSTGRES=namespace|host|docker, LEARNER_PGDATA_TEMPLATE (a cluster made by
# learner/pg-template.sh, copied instead of running initdb), ECOMNET_POSTGRES_IMAGE.
set -euo pipefail
# ip, iptables and sysctl live in /usr/sbin, which a normal user's PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"
if [ "$(id -u)" -ne 0 ]; then
  # sudo resets PATH, and node and python3 are found through it.
  exec sudo -E env PATH="$PATH" bash "$0" "$@"
fi
# Root writes here: nothing it writes is for others to read, and no `>` goes through a file (or a
# symbolic link) already at its name.
umask 077
set -o noclobber

# Phase 2's parts, shared with learner/day6/host.sh.
. "$(dirname "$0")/lib/services.sh"
close_inherited_fds

# LEARNER_REPO: where ecomnet's services are, when this script runs from a copy elsewhere.
REPO="${LEARNER_REPO:-$(cd "$(dirname "$0")/.." && pwd)}"
LEARNER_DIR="${LEARNER_DIR:-/run/ecomnet-learner}"
STATE="$LEARNER_DIR/state"
SERVICES="${LEARNER_SERVICES:-flask}"
PG_CONTAINER=ecomnet-learner-postgres
PG_BIN=/usr/lib/postgresql/15/bin

say() { echo "learner: $*" >&2; }
# Once the host has been changed (STARTED), every failure says how to undo it.
undo_hint() { if [ -n "${STARTED:-}" ]; then echo "learner: run learner/teardown.sh to undo what was done" >&2; fi; }
die() {
  echo "learner: FAILED: $*" >&2
  undo_hint
  exit 1
}
trap 'echo "learner: FAILED at line $LINENO: $BASH_COMMAND" >&2; undo_hint' ERR

# Root reads its orders from LEARNER_DIR (teardown.sh runs what `state` lists) and writes its
# files there, so no one else may have made it or be able to change it or a directory above it
# (a sticky one such as /var/tmp aside, where others cannot move what is root's).
[ "$(realpath -m "$LEARNER_DIR")" = "$LEARNER_DIR" ] || die "LEARNER_DIR must be an absolute path without symbolic links, '.' or '..' (not $LEARNER_DIR)"
if [ -e "$LEARNER_DIR" ] || [ -L "$LEARNER_DIR" ]; then
  if [ -L "$LEARNER_DIR" ] || [ ! -d "$LEARNER_DIR" ] || [ "$(stat -c %u "$LEARNER_DIR")" != 0 ] || [ $((0$(stat -c %a "$LEARNER_DIR") & 022)) != 0 ]; then
    die "LEARNER_DIR $LEARNER_DIR is not a directory of root's that only root can change"
  fi
fi
d=$LEARNER_DIR
while [ "$d" != / ]; do
  d=$(dirname "$d")
  [ -d "$d" ] || die "$d, above LEARNER_DIR, is not a directory"
  if [ "$(stat -c %u "$d")" != 0 ] || { [ $((0$(stat -c %a "$d") & 022)) != 0 ] && [ ! -k "$d" ]; }; then
    die "$d, above LEARNER_DIR, can be changed by others than root"
  fi
done

case "$SERVICES" in
  flask) need_flask_python ;;
  ecomnet)
    NODE="$(command -v node)" || die "node not found on PATH (Node.js 22 or newer is needed)"
    NODE_MAJOR="$("$NODE" -p 'process.versions.node.split(".")[0]')"
    [ "$NODE_MAJOR" -ge 22 ] || die "$NODE is Node.js $NODE_MAJOR; 22 or newer is needed (it runs .ts files)"
    ;;
  *) die "LEARNER_SERVICES must be flask or ecomnet, not '$SERVICES'" ;;
esac

[ ! -e "$STATE" ] || die "already built ($STATE exists): run learner/teardown.sh first"
# teardown.sh deletes the whole work dir, so it must start out as ours alone.
if [ -e "$LEARNER_DIR" ] && [ -n "$(ls -A "$LEARNER_DIR")" ]; then die "LEARNER_DIR $LEARNER_DIR exists and is not empty"; fi
if ip netns list | grep -qE '^(nginx-lb|api-gateway|product-service|order-service|redis-cache|postgres-db)( |$)'; then
  die "a lab namespace already exists: another platform is up on this host"
fi
if ip link show br-app >/dev/null 2>&1; then die "bridge br-app already exists: another platform is up on this host"; fi

# The seed runs PostgreSQL in Docker. Without an engine, Debian's PostgreSQL 15 stands in, by
# default inside postgres-db at 10.0.0.60: the address the seed's order-service.py names, so the
# seed's file runs unchanged, and nothing new listens on the host. `host` runs it on the host
# behind the bridge address 10.0.0.1, where the seed's Docker publishes it.
PG_MODE="${LEARNER_POSTGRES:-}"
if [ -z "$PG_MODE" ]; then
  if docker info >/dev/null 2>&1; then PG_MODE=docker; else PG_MODE=namespace; fi
fi
case "$PG_MODE" in
  docker)
    docker info >/dev/null 2>&1 || die "LEARNER_POSTGRES=docker but no Docker engine answers"
    # Nothing may be pulled here: use ECOMNET_POSTGRES_IMAGE, else postgres:15 or the local build
    # made by `node src/runtime/images.ts`, whichever the engine already has.
    POSTGRES_IMAGE="${ECOMNET_POSTGRES_IMAGE:-}"
    if [ -z "$POSTGRES_IMAGE" ]; then
      for candidate in postgres:15 ecomnet-local/postgres:15; do
        if docker image inspect "$candidate" >/dev/null 2>&1; then POSTGRES_IMAGE=$candidate; break; fi
      done
    fi
    if [ -z "$POSTGRES_IMAGE" ] || ! docker image inspect "$POSTGRES_IMAGE" >/dev/null 2>&1; then
      die "no PostgreSQL image here: run 'eval \"\$(node $REPO/src/runtime/images.ts)\"' or set ECOMNET_POSTGRES_IMAGE"
    fi
    ;;
  host | namespace)
    [ -x "$PG_BIN/postgres" ] || die "LEARNER_POSTGRES=$PG_MODE needs Debian's postgresql-15 ($PG_BIN)"
    TEMPLATE="${LEARNER_PGDATA_TEMPLATE:-}"
    TEMPLATE="${TEMPLATE%/}"
    # A template's configuration runs as postgres: it must be postgres's alone, as pg-template.sh makes it.
    if [ -n "$TEMPLATE" ]; then
      if [ -L "$TEMPLATE" ] || [ ! -f "$TEMPLATE/PG_VERSION" ] || [ "$(stat -c %U "$TEMPLATE")" != postgres ] || [ $((0$(stat -c %a "$TEMPLATE") & 077)) != 0 ]; then
        die "LEARNER_PGDATA_TEMPLATE $TEMPLATE is not a cluster of postgres's alone: make one with learner/pg-template.sh"
      fi
    fi
    ;;
  *) die "LEARNER_POSTGRES must be namespace, host or docker, not '$PG_MODE'" ;;
esac

# mkdir, not -p: if someone made it after the check above, this fails rather than use theirs.
[ -d "$LEARNER_DIR" ] || mkdir -m 700 "$LEARNER_DIR"
# The postgres user must reach its own directories inside: it may pass through, not list.
if [ "$PG_MODE" = docker ]; then chmod 700 "$LEARNER_DIR"; else chmod 711 "$LEARNER_DIR"; fi
echo "pg-mode $PG_MODE" >"$STATE"
STARTED=1

# Every change is written to $STATE before it is made, from the words of the very line that
# makes it, so teardown.sh undoes exactly what ran even when a line below was mistyped.
ip() {
  if [ "${1:-}" = netns ] && [ "${2:-}" = add ]; then echo "netns $3" >>"$STATE"; fi
  if [ "${1:-}" = link ] && [ "${2:-}" = add ]; then
    echo "link $3" >>"$STATE"
    local prev="" a
    for a in "$@"; do
      if [ "$prev" = name ]; then echo "link $a" >>"$STATE"; fi
      prev=$a
    done
  fi
  command ip "$@"
}
iptables() {
  case " $* " in *" -A "* | *" -I "*) echo "iptables $*" >>"$STATE" ;; esac
  command iptables "$@"
}
sysctl() {
  if [ "${1:-}" = -w ]; then echo "sysctl ${2%%=*}=$(command sysctl -n "${2%%=*}")" >>"$STATE"; fi
  command sysctl "$@"
}

##### Phase 1: Linux primitives

say "Task 1.1: creating six network namespaces"
ip netns add nginx-lb
ip netns add api-gateway
ip netns add product-service
ip netns add order-service
ip netns add redis-cache
ip netns add postgres-db

say "Task 1.2: creating bridge br-app 10.0.0.1/16"
ip link add br-app type bridge
ip addr add 10.0.0.1/16 dev br-app
ip link set br-app up

say "Task 1.2: connecting nginx-lb (10.0.0.10)"
ip link add veth-nginx type veth peer name veth-nginx-br
ip link set veth-nginx netns nginx-lb
ip link set veth-nginx-br master br-app
ip link set veth-nginx-br up
ip netns exec nginx-lb ip addr add 10.0.0.10/16 dev veth-nginx
ip netns exec nginx-lb ip link set veth-nginx up
ip netns exec nginx-lb ip link set lo up
ip netns exec nginx-lb ip route add default via 10.0.0.1

say "Task 1.2: connecting api-gateway (10.0.0.20)"
ip link add veth-api type veth peer name veth-api-br
ip link set veth-api netns api-gateway
ip link set veth-api-br master br-app
ip link set veth-api-br up
ip netns exec api-gateway ip addr add 10.0.0.20/16 dev veth-api
ip netns exec api-gateway ip link set veth-api up
ip netns exec api-gateway ip link set lo up
ip netns exec api-gateway ip route add default via 10.0.0.1

say "Task 1.2: connecting product-service (10.0.0.30)"
ip link add veth-product type veth peer name veth-product-br
ip link set veth-product netns product-service
ip link set veth-product-br master br-app
ip link set veth-product-br up
ip netns exec product-service ip addr add 10.0.0.30/16 dev veth-product
ip netns exec product-service ip link set veth-product up
ip netns exec product-service ip link set lo up
ip netns exec product-service ip route add default via 10.0.0.1

say "Task 1.2: connecting order-service (10.0.0.40)"
ip link add veth-order type veth peer name veth-order-br
ip link set veth-order netns order-service
ip link set veth-order-br master br-app
ip link set veth-order-br up
ip netns exec order-service ip addr add 10.0.0.40/16 dev veth-order
ip netns exec order-service ip link set veth-order up
ip netns exec order-service ip link set lo up
ip netns exec order-service ip route add default via 10.0.0.1

say "Task 1.2: connecting redis-cache (10.0.0.50)"
ip link add veth-redis type veth peer name veth-redis-br
ip link set veth-redis netns redis-cache
ip link set veth-redis-br master br-app
ip link set veth-redis-br up
ip netns exec redis-cache ip addr add 10.0.0.50/16 dev veth-redis
ip netns exec redis-cache ip link set veth-redis up
ip netns exec redis-cache ip link set lo up
ip netns exec redis-cache ip route add default via 10.0.0.1

say "Task 1.2: connecting postgres-db (10.0.0.60)"
ip link add veth-pg type veth peer name veth-pg-br
ip link set veth-pg netns postgres-db
ip link set veth-pg-br master br-app
ip link set veth-pg-br up
ip netns exec postgres-db ip addr add 10.0.0.60/16 dev veth-pg
ip netns exec postgres-db ip link set veth-pg up
ip netns exec postgres-db ip link set lo up
ip netns exec postgres-db ip route add default via 10.0.0.1

say "Task 1.3: enabling IP forwarding and MASQUERADE"
sysctl -w net.ipv4.ip_forward=1
iptables -t nat -A POSTROUTING -s 10.0.0.0/16 ! -o br-app -j MASQUERADE

say "Task 1.4: forwarding host port 8080 to nginx-lb:80"
iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 10.0.0.10:80
iptables -A FORWARD -p tcp -d 10.0.0.10 --dport 80 -j ACCEPT

# Docker sets FORWARD's policy to DROP, and with br_netfilter loaded even traffic bridged
# between two namespaces crosses FORWARD: without these the namespaces cannot talk at all.
if [ "$(iptables -S FORWARD 2>/dev/null | sed -n 1p)" = "-P FORWARD DROP" ]; then
  say "Task 1.4: FORWARD policy is DROP (Docker): accepting br-app's own traffic"
  iptables -I FORWARD -i br-app -j ACCEPT
  iptables -I FORWARD -o br-app -j ACCEPT
fi

##### Phase 2: application services

start_nginx

start_gateway

start_redis

start_product

if [ "$PG_MODE" = docker ]; then
  say "Task 2.4: starting PostgreSQL in Docker ($POSTGRES_IMAGE), published on port 5432"
  echo "docker $PG_CONTAINER" >>"$STATE"
  # --pull never: this host must not reach a registry.
  docker run -d --pull never --name "$PG_CONTAINER" -p 5432:5432 -e POSTGRES_USER=postgres -e POSTGRES_PASSWORD=postgres -e POSTGRES_DB=orders "$POSTGRES_IMAGE" >/dev/null
else
  say "Task 2.4: no Docker: starting Debian's PostgreSQL 15 ($PG_MODE)"
  echo "pgdata $LEARNER_DIR/pgdata" >>"$STATE"
  make_pgdata
  if [ "$PG_MODE" = namespace ]; then
    start_postgres_in_namespace
  else
    (cd "$LEARNER_DIR" && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$LEARNER_DIR/pgdata" -l "$LEARNER_DIR/postgres.log" -w -o "-c listen_addresses=10.0.0.1 -c port=5432 -c unix_socket_directories=$LEARNER_DIR/pgrun" start >/dev/null)
    PGPASSWORD=postgres createdb -h 10.0.0.1 -U postgres orders
  fi
fi
if [ "$PG_MODE" != namespace ]; then
  wait_until "PostgreSQL (10.0.0.1:5432)" 20 - pg_isready -q -t 1 -h 10.0.0.1 -p 5432
fi

# The seed's order service creates its orders table itself at start (init_db); so does ours.
say "Task 2.4: starting the order service in order-service"
write_order_service
if [ "$SERVICES" = flask ]; then
# The seed's file names postgres-db (10.0.0.60), but its Docker PostgreSQL is reached at 10.0.0.1.
[ "$PG_MODE" = namespace ] || sed -i "s/host='10.0.0.60'/host='10.0.0.1'/" "$LEARNER_DIR/order-service.py"
else
[ "$PG_MODE" != namespace ] || sed -i 's/@10.0.0.1:5432/@10.0.0.60:5432/' "$LEARNER_DIR/order-service.json"
fi
start_order_service

say "done: try 'ip netns exec api-gateway curl -s localhost:3000/api/products'; undo with learner/teardown.sh"
