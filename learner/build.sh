#!/usr/bin/env bash
# A learner's build of the seed lab (/work/shared/seed/container-networking-project.md): the
# seed's commands in the seed's order, typed out one per line, with no ecomnet code for the
# network. Phase 2 runs the seed's three Flask services, written out here with heredocs as the
# seed does (LEARNER_SERVICES=flask, the default), or ecomnet's TypeScript services in their place
# (LEARNER_SERVICES=ecomnet). Undo with learner/teardown.sh.
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

# Started servers must not inherit the caller's descriptors: a `flock LOCK build.sh` lock would
# stay held by them (and a later `flock LOCK teardown.sh` wait forever), a pipe never close.
# 255 is bash's own, already close-on-exec, handle on this script.
for fd in "/proc/$$/fd"/*; do
  fd=${fd##*/}
  if [ "$fd" -gt 2 ] && [ "$fd" -lt 255 ]; then eval "exec $fd>&-"; fi
done

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

# Polls "$@" every 0.1 s for at most $2 seconds, instead of a learner's sleep; gives up early
# when the server's process ($3, "-" for none) has died. Like a learner typing on, the build
# goes on either way: what does not answer is for the checks to find, with its log named here.
# Each server is asked where it runs (its own namespace, or the host for PostgreSQL): whether it
# started is the build's question, whether the others reach it is the checks', so a broken
# network costs the build no waiting.
wait_until() {
  local what=$1 secs=$2 pidfile=$3
  local deadline=$((SECONDS + secs))
  shift 3
  until "$@" >/dev/null 2>&1; do
    if [ "$pidfile" != - ] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      say "WARNING: $what exited; see ${pidfile%.pid}.log"
      return 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "WARNING: $what did not answer within $secs s"
      return 0
    fi
    sleep 0.1
  done
}

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
  flask)
    # The seed's services need Flask, redis-py, psycopg2 and requests (Debian's python3-flask,
    # python3-redis, python3-psycopg2, python3-requests); a pyenv or venv python3 first on PATH may lack them.
    if ! python3 -c 'import flask, redis, psycopg2, requests' 2>/dev/null && /usr/bin/python3 -c 'import flask, redis, psycopg2, requests' 2>/dev/null; then
      PATH="/usr/bin:$PATH"
    fi
    python3 -c 'import flask, redis, psycopg2, requests' 2>/dev/null ||
      die "python3 lacks Flask, redis, psycopg2 or requests: apt-get install python3-flask python3-redis python3-psycopg2 python3-requests"
    ;;
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

say "Task 2.1: starting nginx in nginx-lb"
mkdir -p "$LEARNER_DIR/nginx"
# The seed's nginx.conf; the pid and log lines keep a root-started nginx out of the host's
# /run/nginx.pid and /var/log/nginx, so teardown stops this nginx and no other.
cat <<EOF >"$LEARNER_DIR/nginx/nginx.conf"
pid $LEARNER_DIR/nginx/nginx.pid;
error_log $LEARNER_DIR/nginx/error.log;

events {
    worker_connections 1024;
}

http {
    access_log $LEARNER_DIR/nginx/access.log;

    upstream api_gateway {
        server 10.0.0.20:3000;
    }

    server {
        listen 80;

        location / {
            proxy_pass http://api_gateway;
            proxy_set_header Host \$host;
            proxy_set_header X-Real-IP \$remote_addr;
        }

        location /health {
            return 200 "OK\n";
            add_header Content-Type text/plain;
        }
    }
}
EOF
ip netns exec nginx-lb nginx -c "$LEARNER_DIR/nginx/nginx.conf"
wait_until "nginx-lb (:80)" 5 - ip netns exec nginx-lb curl -s -o /dev/null -m 1 http://127.0.0.1/

say "Task 2.2: starting the API gateway in api-gateway"
if [ "$SERVICES" = flask ]; then
cat <<'EOF' >"$LEARNER_DIR/api-gateway.py"
from flask import Flask, jsonify, request
import requests

app = Flask(__name__)

PRODUCT_SERVICE = "http://10.0.0.30:5000"
ORDER_SERVICE = "http://10.0.0.40:5000"


def forward(call):
    # Pass on what the service answered, or 503 when it could not be asked.
    try:
        reply = call()
        return jsonify(reply.json()), reply.status_code
    except Exception as e:
        return jsonify({"error": str(e)}), 503


@app.route('/health')
def health():
    return jsonify({"status": "healthy", "service": "api-gateway"})


@app.route('/api/products', methods=['GET'])
def products():
    return forward(lambda: requests.get(PRODUCT_SERVICE + "/products"))


@app.route('/api/products/<id>', methods=['GET'])
def product(id):
    return forward(lambda: requests.get(PRODUCT_SERVICE + "/products/" + id))


@app.route('/api/orders', methods=['POST'])
def create_order():
    return forward(lambda: requests.post(ORDER_SERVICE + "/orders", json=request.json))


if __name__ == '__main__':
    app.run(host='0.0.0.0', port=3000)
EOF
ip netns exec api-gateway python3 "$LEARNER_DIR/api-gateway.py" >"$LEARNER_DIR/api-gateway.log" 2>&1 &
else
cat <<EOF >"$LEARNER_DIR/api-gateway.json"
{"service": "gateway", "listen": {"host": "0.0.0.0", "port": 3000}, "productUrl": "http://10.0.0.30:5000", "orderUrl": "http://10.0.0.40:5000"}
EOF
ip netns exec api-gateway "$NODE" "$REPO/src/services/main.ts" "$LEARNER_DIR/api-gateway.json" >"$LEARNER_DIR/api-gateway.log" 2>&1 &
fi
echo $! >"$LEARNER_DIR/api-gateway.pid"
wait_until "api-gateway (:3000/health)" 5 "$LEARNER_DIR/api-gateway.pid" ip netns exec api-gateway curl -sf -m 1 http://127.0.0.1:3000/health

say "Task 2.3: starting Redis in redis-cache"
ip netns exec redis-cache redis-server --bind 10.0.0.50 --port 6379 --protected-mode no --save '' --appendonly no --dir "$LEARNER_DIR" >"$LEARNER_DIR/redis.log" 2>&1 &
echo $! >"$LEARNER_DIR/redis.pid"
wait_until "redis-cache (10.0.0.50:6379)" 5 "$LEARNER_DIR/redis.pid" ip netns exec redis-cache nc -z -w 1 10.0.0.50 6379

say "Task 2.3: starting the product service in product-service"
if [ "$SERVICES" = flask ]; then
cat <<'EOF' >"$LEARNER_DIR/product-service.py"
from flask import Flask, jsonify
import json
import redis

app = Flask(__name__)

cache = redis.Redis(host='10.0.0.50', port=6379, decode_responses=True)

PRODUCTS = {
    "1": {"id": "1", "name": "Laptop", "price": 999.99, "stock": 50},
    "2": {"id": "2", "name": "Mouse", "price": 29.99, "stock": 200},
    "3": {"id": "3", "name": "Keyboard", "price": 79.99, "stock": 150},
}


def from_cache(key, lookup):
    # Redis first; on a miss look it up and keep it there for 5 minutes.
    hit = cache.get(key)
    if hit:
        return json.loads(hit)
    value = lookup()
    if value is not None:
        cache.setex(key, 300, json.dumps(value))
    return value


@app.route('/health')
def health():
    return jsonify({"status": "healthy", "service": "product-service"})


@app.route('/products', methods=['GET'])
def products():
    return jsonify(from_cache('all_products', lambda: list(PRODUCTS.values())))


@app.route('/products/<product_id>', methods=['GET'])
def product(product_id):
    found = from_cache('product_' + product_id, lambda: PRODUCTS.get(product_id))
    if found is None:
        return jsonify({"error": "Product not found"}), 404
    return jsonify(found)


if __name__ == '__main__':
    app.run(host='0.0.0.0', port=5000)
EOF
ip netns exec product-service python3 "$LEARNER_DIR/product-service.py" >"$LEARNER_DIR/product-service.log" 2>&1 &
else
cat <<EOF >"$LEARNER_DIR/product-service.json"
{"service": "product", "listen": {"host": "0.0.0.0", "port": 5000}, "redisUrl": "redis://10.0.0.50:6379"}
EOF
ip netns exec product-service "$NODE" "$REPO/src/services/main.ts" "$LEARNER_DIR/product-service.json" >"$LEARNER_DIR/product-service.log" 2>&1 &
fi
echo $! >"$LEARNER_DIR/product-service.pid"
wait_until "product-service (:5000/health)" 5 "$LEARNER_DIR/product-service.pid" ip netns exec product-service curl -sf -m 1 http://127.0.0.1:5000/health

if [ "$PG_MODE" = docker ]; then
  say "Task 2.4: starting PostgreSQL in Docker ($POSTGRES_IMAGE), published on port 5432"
  echo "docker $PG_CONTAINER" >>"$STATE"
  # --pull never: this host must not reach a registry.
  docker run -d --pull never --name "$PG_CONTAINER" -p 5432:5432 -e POSTGRES_USER=postgres -e POSTGRES_PASSWORD=postgres -e POSTGRES_DB=orders "$POSTGRES_IMAGE" >/dev/null
else
  say "Task 2.4: no Docker: starting Debian's PostgreSQL 15 ($PG_MODE)"
  echo "pgdata $LEARNER_DIR/pgdata" >>"$STATE"
  if [ -n "$TEMPLATE" ]; then
    # A cluster initdb made once (learner/pg-template.sh): copying it takes a fraction of initdb's time.
    cp -a "$TEMPLATE" "$LEARNER_DIR/pgdata"
  else
    install -d -o postgres -g postgres -m 700 "$LEARNER_DIR/pgdata"
    echo postgres >"$LEARNER_DIR/pgpass"
    chown postgres: "$LEARNER_DIR/pgpass"
    (cd "$LEARNER_DIR" && runuser -u postgres -- "$PG_BIN/initdb" -D "$LEARNER_DIR/pgdata" -U postgres --pwfile="$LEARNER_DIR/pgpass" --auth-local=peer --auth-host=scram-sha-256 >"$LEARNER_DIR/initdb.log" 2>&1)
  fi
  install -d -o postgres -g postgres -m 700 "$LEARNER_DIR/pgrun"
  install -o postgres -g postgres -m 600 /dev/null "$LEARNER_DIR/postgres.log"
  # Written as postgres, whose file it is (root following a link left there would write elsewhere).
  echo "host all all 10.0.0.0/16 scram-sha-256" | runuser -u postgres -- tee -a "$LEARNER_DIR/pgdata/pg_hba.conf" >/dev/null
  # The seed's MASQUERADE also catches the host's own psql to 10.0.0.1 (it leaves by lo, not
  # br-app), which then arrives from one of the host's addresses.
  echo "host all all samehost scram-sha-256" | runuser -u postgres -- tee -a "$LEARNER_DIR/pgdata/pg_hba.conf" >/dev/null
  if [ "$PG_MODE" = namespace ]; then
    (cd "$LEARNER_DIR" && ip netns exec postgres-db runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$LEARNER_DIR/pgdata" -l "$LEARNER_DIR/postgres.log" -w -o "-c listen_addresses=10.0.0.60 -c port=5432 -c unix_socket_directories=$LEARNER_DIR/pgrun" start >/dev/null)
    PGPASSWORD=postgres createdb -h 10.0.0.60 -U postgres orders
  else
    (cd "$LEARNER_DIR" && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$LEARNER_DIR/pgdata" -l "$LEARNER_DIR/postgres.log" -w -o "-c listen_addresses=10.0.0.1 -c port=5432 -c unix_socket_directories=$LEARNER_DIR/pgrun" start >/dev/null)
    PGPASSWORD=postgres createdb -h 10.0.0.1 -U postgres orders
  fi
fi
if [ "$PG_MODE" = namespace ]; then
  wait_until "PostgreSQL (10.0.0.60:5432 in postgres-db)" 20 - ip netns exec postgres-db pg_isready -q -t 1 -h 10.0.0.60 -p 5432
else
  wait_until "PostgreSQL (10.0.0.1:5432)" 20 - pg_isready -q -t 1 -h 10.0.0.1 -p 5432
fi

# The seed's order service creates its orders table itself at start (init_db); so does ours.
say "Task 2.4: starting the order service in order-service"
if [ "$SERVICES" = flask ]; then
cat <<'EOF' >"$LEARNER_DIR/order-service.py"
from flask import Flask, jsonify, request
import psycopg2

app = Flask(__name__)


def get_db():
    return psycopg2.connect(host='10.0.0.60', database='orders', user='postgres', password='postgres')


def init_db():
    conn = get_db()
    with conn.cursor() as cur:
        cur.execute('''
            CREATE TABLE IF NOT EXISTS orders (
                id SERIAL PRIMARY KEY,
                customer_id VARCHAR(100),
                product_id VARCHAR(100),
                quantity INTEGER,
                total_price DECIMAL(10, 2),
                created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
            )
        ''')
    conn.commit()
    conn.close()


@app.route('/health')
def health():
    return jsonify({"status": "healthy", "service": "order-service"})


@app.route('/orders', methods=['POST'])
def create_order():
    data = request.json
    conn = get_db()
    with conn.cursor() as cur:
        cur.execute('INSERT INTO orders (customer_id, product_id, quantity, total_price) VALUES (%s, %s, %s, %s) RETURNING id',
                    (data['customer_id'], data['product_id'], data['quantity'], data['total_price']))
        order_id = cur.fetchone()[0]
    conn.commit()
    conn.close()
    return jsonify({"order_id": order_id, "status": "created"}), 201


@app.route('/orders/<order_id>', methods=['GET'])
def get_order(order_id):
    conn = get_db()
    with conn.cursor() as cur:
        cur.execute('SELECT * FROM orders WHERE id = %s', (order_id,))
        row = cur.fetchone()
    conn.close()
    if row is None:
        return jsonify({"error": "Order not found"}), 404
    id, customer_id, product_id, quantity, total_price, created_at = row
    return jsonify({"id": id, "customer_id": customer_id, "product_id": product_id, "quantity": quantity,
                    "total_price": float(total_price), "created_at": created_at.isoformat()})


if __name__ == '__main__':
    init_db()
    app.run(host='0.0.0.0', port=5000)
EOF
# The seed's file names postgres-db (10.0.0.60), but its Docker PostgreSQL is reached at 10.0.0.1.
[ "$PG_MODE" = namespace ] || sed -i "s/host='10.0.0.60'/host='10.0.0.1'/" "$LEARNER_DIR/order-service.py"
ip netns exec order-service python3 "$LEARNER_DIR/order-service.py" >"$LEARNER_DIR/order-service.log" 2>&1 &
else
cat <<EOF >"$LEARNER_DIR/order-service.json"
{"service": "order", "listen": {"host": "0.0.0.0", "port": 5000}, "pgUrl": "postgres://postgres:postgres@10.0.0.1:5432/orders"}
EOF
[ "$PG_MODE" != namespace ] || sed -i 's/@10.0.0.1:5432/@10.0.0.60:5432/' "$LEARNER_DIR/order-service.json"
ip netns exec order-service "$NODE" "$REPO/src/services/main.ts" "$LEARNER_DIR/order-service.json" >"$LEARNER_DIR/order-service.log" 2>&1 &
fi
echo $! >"$LEARNER_DIR/order-service.pid"
wait_until "order-service (:5000/health)" 8 "$LEARNER_DIR/order-service.pid" ip netns exec order-service curl -sf -m 1 http://127.0.0.1:5000/health

say "done: try 'ip netns exec api-gateway curl -s localhost:3000/api/products'; undo with learner/teardown.sh"
