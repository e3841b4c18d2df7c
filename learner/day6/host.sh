#!/usr/bin/env bash
# A learner's build of ONE host of course day 6 (the seed's lab across two hosts joined by a VXLAN),
# typed out one command per line as the course gives them, with no ecomnet code: the seed's Phase 1
# for this host's half of the split (A: nginx-lb, api-gateway, product-service, order-service;
# B: redis-cache, postgres-db), then day 6's vxlan100 enslaved to br-app and the overlay's MTU,
# then the seed's Phase 2 for this host's half, started as learner/build.sh starts it (the seed's
# Flask services, nginx, Redis, Debian's PostgreSQL 15 in postgres-db; learner/lib/services.sh):
# A reaches B's Redis and PostgreSQL at the seed's 10.0.0.50 and 10.0.0.60 across the overlay.
# Usage: host.sh a|b THIS_HOST_UNDERLAY_IP OTHER_HOST_UNDERLAY_IP
# Env: LEARNER_DIR (work dir, default /run/ecomnet-learner), LEARNER_PGDATA_TEMPLATE (a cluster made
# by learner/pg-template.sh, copied instead of running initdb).
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
umask 077
. "$(dirname "$0")/../lib/services.sh"
close_inherited_fds
HOST=${1:?usage: host.sh a|b THIS_HOST_IP OTHER_HOST_IP}
THIS=${2:?usage: host.sh a|b THIS_HOST_IP OTHER_HOST_IP}
OTHER=${3:?usage: host.sh a|b THIS_HOST_IP OTHER_HOST_IP}
say() { echo "learner day 6 ($HOST, $THIS): $*" >&2; }
die() {
  say "FAILED: $*"
  exit 1
}
LEARNER_DIR="${LEARNER_DIR:-/run/ecomnet-learner}"
SERVICES=flask
PG_BIN=/usr/lib/postgresql/15/bin
TEMPLATE="${LEARNER_PGDATA_TEMPLATE:-}"
TEMPLATE="${TEMPLATE%/}"
[ -d "$LEARNER_DIR" ] || mkdir -m 700 "$LEARNER_DIR"
# The postgres user must reach its own directories inside: it may pass through, not list.
chmod 711 "$LEARNER_DIR"

if [ "$HOST" = a ]; then
need_flask_python
say "Task 1.1: this host's namespaces"
ip netns add nginx-lb
ip netns add api-gateway
ip netns add product-service
ip netns add order-service

say "Task 1.2: bridge br-app 10.0.0.1/16"
ip link add br-app type bridge
ip addr add 10.0.0.1/16 dev br-app
ip link set br-app up

ip link add veth-nginx type veth peer name veth-nginx-br
ip link set veth-nginx netns nginx-lb
ip link set veth-nginx-br master br-app
ip link set veth-nginx-br up
ip netns exec nginx-lb ip addr add 10.0.0.10/16 dev veth-nginx
ip netns exec nginx-lb ip link set veth-nginx up
ip netns exec nginx-lb ip link set lo up
ip netns exec nginx-lb ip route add default via 10.0.0.1

ip link add veth-api type veth peer name veth-api-br
ip link set veth-api netns api-gateway
ip link set veth-api-br master br-app
ip link set veth-api-br up
ip netns exec api-gateway ip addr add 10.0.0.20/16 dev veth-api
ip netns exec api-gateway ip link set veth-api up
ip netns exec api-gateway ip link set lo up
ip netns exec api-gateway ip route add default via 10.0.0.1

ip link add veth-product type veth peer name veth-product-br
ip link set veth-product netns product-service
ip link set veth-product-br master br-app
ip link set veth-product-br up
ip netns exec product-service ip addr add 10.0.0.30/16 dev veth-product
ip netns exec product-service ip link set veth-product up
ip netns exec product-service ip link set lo up
ip netns exec product-service ip route add default via 10.0.0.1

ip link add veth-order type veth peer name veth-order-br
ip link set veth-order netns order-service
ip link set veth-order-br master br-app
ip link set veth-order-br up
ip netns exec order-service ip addr add 10.0.0.40/16 dev veth-order
ip netns exec order-service ip link set veth-order up
ip netns exec order-service ip link set lo up
ip netns exec order-service ip route add default via 10.0.0.1

say "Task 1.3: IP forwarding and MASQUERADE"
sysctl -w net.ipv4.ip_forward=1
iptables -t nat -A POSTROUTING -s 10.0.0.0/16 ! -o br-app -j MASQUERADE

say "Task 1.4: host port 8080 to nginx-lb:80"
iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 10.0.0.10:80
iptables -A FORWARD -p tcp -d 10.0.0.10 --dport 80 -j ACCEPT

say "Day 6: vxlan100 to $OTHER, enslaved to br-app"
ip link add vxlan100 type vxlan id 100 remote "$OTHER" dstport 4789 dev eth0
ip link set vxlan100 master br-app
ip link set vxlan100 up

say "Day 6: the overlay's MTU (1500 - 50 bytes of VXLAN header)"
ip netns exec nginx-lb ip link set veth-nginx mtu 1450
ip netns exec api-gateway ip link set veth-api mtu 1450
ip netns exec product-service ip link set veth-product mtu 1450
ip netns exec order-service ip link set veth-order mtu 1450

start_nginx
start_gateway
start_product
# The seed's order service makes its table at start and exits without its database: it waits for
# host B's PostgreSQL, across the overlay (the hosts may be built in either order).
say "Day 6: waiting for host B's PostgreSQL (10.0.0.60:5432) across the overlay"
wait_until "PostgreSQL on the other host (10.0.0.60:5432)" 30 - ip netns exec order-service pg_isready -q -t 1 -h 10.0.0.60 -p 5432
say "Task 2.4: starting the order service in order-service"
write_order_service
start_order_service
else
say "Task 1.1: this host's namespaces"
ip netns add redis-cache
ip netns add postgres-db

say "Task 1.2: bridge br-app 10.0.0.2/16"
ip link add br-app type bridge
ip addr add 10.0.0.2/16 dev br-app
ip link set br-app up

ip link add veth-redis type veth peer name veth-redis-br
ip link set veth-redis netns redis-cache
ip link set veth-redis-br master br-app
ip link set veth-redis-br up
ip netns exec redis-cache ip addr add 10.0.0.50/16 dev veth-redis
ip netns exec redis-cache ip link set veth-redis up
ip netns exec redis-cache ip link set lo up
ip netns exec redis-cache ip route add default via 10.0.0.2

ip link add veth-pg type veth peer name veth-pg-br
ip link set veth-pg netns postgres-db
ip link set veth-pg-br master br-app
ip link set veth-pg-br up
ip netns exec postgres-db ip addr add 10.0.0.60/16 dev veth-pg
ip netns exec postgres-db ip link set veth-pg up
ip netns exec postgres-db ip link set lo up
ip netns exec postgres-db ip route add default via 10.0.0.2

say "Task 1.3: IP forwarding and MASQUERADE"
sysctl -w net.ipv4.ip_forward=1
iptables -t nat -A POSTROUTING -s 10.0.0.0/16 ! -o br-app -j MASQUERADE

say "Day 6: vxlan100 to $OTHER, enslaved to br-app"
ip link add vxlan100 type vxlan id 100 remote "$OTHER" dstport 4789 dev eth0
ip link set vxlan100 master br-app
ip link set vxlan100 up

say "Day 6: the overlay's MTU (1500 - 50 bytes of VXLAN header)"
ip netns exec redis-cache ip link set veth-redis mtu 1450
ip netns exec postgres-db ip link set veth-pg mtu 1450

start_redis
say "Task 2.4: starting Debian's PostgreSQL 15 in postgres-db"
make_pgdata
start_postgres_in_namespace
fi
say "done"
