#!/usr/bin/env bash
# Phase 2 of the seed's lab, the services as a learner starts them: the seed's three Flask services
# written out with heredocs (or ecomnet's in their place), nginx with the seed's nginx.conf, Redis
# and Debian's PostgreSQL 15 in their namespaces. Sourced by learner/build.sh (one host) and
# learner/day6/host.sh (one host of two), each of which calls the parts its host runs.
# Uses the caller's say, die, LEARNER_DIR and SERVICES (flask|ecomnet; ecomnet also NODE and REPO), and
# for PostgreSQL PG_BIN and TEMPLATE (a cluster to copy, or empty for initdb).

# Started servers must not inherit the caller's descriptors: a `flock LOCK build.sh` lock would
# stay held by them (and a later `flock LOCK teardown.sh` wait forever), a pipe never close.
# 255 is bash's own, already close-on-exec, handle on the script. Called by the script itself,
# after sourcing this file, so $$ is the script's shell.
close_inherited_fds() {
  local fd
  for fd in "/proc/$$/fd"/*; do
    fd=${fd##*/}
    if [ "$fd" -gt 2 ] && [ "$fd" -lt 255 ]; then eval "exec $fd>&-"; fi
  done
}

# The seed's services need Flask, redis-py, psycopg2 and requests (Debian's python3-flask,
# python3-redis, python3-psycopg2, python3-requests); a pyenv or venv python3 first on PATH may lack them.
need_flask_python() {
  if ! python3 -c 'import flask, redis, psycopg2, requests' 2>/dev/null && /usr/bin/python3 -c 'import flask, redis, psycopg2, requests' 2>/dev/null; then
    PATH="/usr/bin:$PATH"
  fi
  python3 -c 'import flask, redis, psycopg2, requests' 2>/dev/null ||
    die "python3 lacks Flask, redis, psycopg2 or requests: apt-get install python3-flask python3-redis python3-psycopg2 python3-requests"
}

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

start_nginx() {
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
}

start_gateway() {
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
}

start_redis() {
  say "Task 2.3: starting Redis in redis-cache"
  ip netns exec redis-cache redis-server --bind 10.0.0.50 --port 6379 --protected-mode no --save '' --appendonly no --dir "$LEARNER_DIR" >"$LEARNER_DIR/redis.log" 2>&1 &
  echo $! >"$LEARNER_DIR/redis.pid"
  wait_until "redis-cache (10.0.0.50:6379)" 5 "$LEARNER_DIR/redis.pid" ip netns exec redis-cache nc -z -w 1 10.0.0.50 6379
}

start_product() {
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
}

# PostgreSQL's cluster in $LEARNER_DIR/pgdata, with the seed's logins over TCP.
make_pgdata() {
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
}

# PostgreSQL in postgres-db at the address the seed's order-service.py names, its orders database made.
start_postgres_in_namespace() {
  (cd "$LEARNER_DIR" && ip netns exec postgres-db runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$LEARNER_DIR/pgdata" -l "$LEARNER_DIR/postgres.log" -w -o "-c listen_addresses=10.0.0.60 -c port=5432 -c unix_socket_directories=$LEARNER_DIR/pgrun" start >/dev/null)
  PGPASSWORD=postgres createdb -h 10.0.0.60 -U postgres orders
  wait_until "PostgreSQL (10.0.0.60:5432 in postgres-db)" 20 - ip netns exec postgres-db pg_isready -q -t 1 -h 10.0.0.60 -p 5432
}

# The order service's file; the caller points it at its PostgreSQL before start_order_service.
write_order_service() {
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
  else
    cat <<EOF >"$LEARNER_DIR/order-service.json"
{"service": "order", "listen": {"host": "0.0.0.0", "port": 5000}, "pgUrl": "postgres://postgres:postgres@10.0.0.1:5432/orders"}
EOF
  fi
}

start_order_service() {
  if [ "$SERVICES" = flask ]; then
    ip netns exec order-service python3 "$LEARNER_DIR/order-service.py" >"$LEARNER_DIR/order-service.log" 2>&1 &
  else
    ip netns exec order-service "$NODE" "$REPO/src/services/main.ts" "$LEARNER_DIR/order-service.json" >"$LEARNER_DIR/order-service.log" 2>&1 &
  fi
  echo $! >"$LEARNER_DIR/order-service.pid"
  wait_until "order-service (:5000/health)" 8 "$LEARNER_DIR/order-service.pid" ip netns exec order-service curl -sf -m 1 http://127.0.0.1:5000/health
}
