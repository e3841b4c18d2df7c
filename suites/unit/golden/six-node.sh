#!/bin/sh
# ecomnet up --dry-run: what `up` does, one command per line
set -e

# Task 1.1: network namespaces
ip netns add nginx-lb
ip netns add api-gateway
ip netns add product-service
ip netns add order-service
ip netns add redis-cache
ip netns add postgres-db
ip netns add ext-client
ip netns add internet-host

# Task 1.2: bridges and veth pairs (host side)
ip link add br-app type bridge
ip addr add 10.0.0.1/16 dev br-app
ip link set br-app up
ip link add veth-nginx-br type veth peer name veth-nginx netns nginx-lb
ip link set veth-nginx-br master br-app
ip link set veth-nginx-br up
ip link add veth-api-br type veth peer name veth-api netns api-gateway
ip link set veth-api-br master br-app
ip link set veth-api-br up
ip link add veth-product-br type veth peer name veth-product netns product-service
ip link set veth-product-br master br-app
ip link set veth-product-br up
ip link add veth-order-br type veth peer name veth-order netns order-service
ip link set veth-order-br master br-app
ip link set veth-order-br up
ip link add veth-redis-br type veth peer name veth-redis netns redis-cache
ip link set veth-redis-br master br-app
ip link set veth-redis-br up
ip link add veth-pg-br type veth peer name veth-pg netns postgres-db
ip link set veth-pg-br master br-app
ip link set veth-pg-br up
ip link add br-uplink type bridge
ip addr add 203.0.113.129/25 dev br-uplink
ip link set br-uplink up
ip link add veth-ext-br type veth peer name veth-ext netns ext-client
ip link set veth-ext-br master br-uplink
ip link set veth-ext-br up
ip link add veth-inet-br type veth peer name veth-inet netns internet-host
ip link set veth-inet-br master br-uplink
ip link set veth-inet-br up
ip link set veth-nginx-br type bridge_slave hairpin on

# Task 1.2: inside each namespace
ip -n nginx-lb addr add 10.0.0.10/16 dev veth-nginx
ip -n nginx-lb link set veth-nginx up
ip -n nginx-lb link set lo up
ip -n nginx-lb route add default via 10.0.0.1
ip -n api-gateway addr add 10.0.0.20/16 dev veth-api
ip -n api-gateway link set veth-api up
ip -n api-gateway link set lo up
ip -n api-gateway route add default via 10.0.0.1
ip -n product-service addr add 10.0.0.30/16 dev veth-product
ip -n product-service link set veth-product up
ip -n product-service link set lo up
ip -n product-service route add default via 10.0.0.1
ip -n order-service addr add 10.0.0.40/16 dev veth-order
ip -n order-service link set veth-order up
ip -n order-service link set lo up
ip -n order-service route add default via 10.0.0.1
ip -n redis-cache addr add 10.0.0.50/16 dev veth-redis
ip -n redis-cache link set veth-redis up
ip -n redis-cache link set lo up
ip -n redis-cache route add default via 10.0.0.1
ip -n postgres-db addr add 10.0.0.60/16 dev veth-pg
ip -n postgres-db link set veth-pg up
ip -n postgres-db link set lo up
ip -n postgres-db route add default via 10.0.0.1
ip -n ext-client addr add 203.0.113.130/25 dev veth-ext
ip -n ext-client link set veth-ext up
ip -n ext-client link set lo up
ip -n ext-client route add default via 203.0.113.129
ip -n internet-host addr add 203.0.113.200/25 dev veth-inet
ip -n internet-host link set veth-inet up
ip -n internet-host link set lo up
ip -n internet-host route add default via 203.0.113.129

# Task 1.3: forwarding (and 127.0.0.1 on the bridge, for curl localhost:8080; guarded in our INPUT chain)
sysctl -w net.ipv4.ip_forward=1
sysctl -w net.ipv4.conf.br-app.route_localnet=1

# Tasks 1.3 and 1.4: NAT, port forward and FORWARD filtering, and the host's INPUT from the bridge, in chains of our own, each entered by one jump;
# every line tagged and explained
#   ecomnet:jump PREROUTING -> ECOMNET-PREROUTING: First in PREROUTING: the port forward wins for host addresses over any later DNAT, Docker's jump to its DOCKER chain included; ECOMNET-PREROUTING catches nothing but the forwarded ports.
#     ecomnet:dnat-8080: Arriving connections to port 8080 of any host address are sent to nginx-lb 10.0.0.10:80 (limited to local addresses so traffic merely passing through is untouched).
#   ecomnet:jump OUTPUT -> ECOMNET-OUTPUT: First in OUTPUT: the port forward wins for host addresses over any later DNAT, Docker's jump to its DOCKER chain included; ECOMNET-OUTPUT catches nothing but the forwarded ports.
#     ecomnet:dnat-8080-local: The host's own connections (curl localhost:8080) never pass PREROUTING; this DNAT catches them in OUTPUT.
#   ecomnet:jump POSTROUTING -> ECOMNET-POSTROUTING: Appended to POSTROUTING, as the seed's MASQUERADE is: an SNAT or RETURN the host already has for these addresses still comes first.
#     ecomnet:egress-masquerade: Namespaces reach the outside world: their 10.0.0.x source is rewritten to the address of the interface they leave by.
#     ecomnet:localhost-masquerade: With route_localnet on br-app, a 127.0.0.1 source may leave by it; masquerading gives the namespace an address it can answer.
#     ecomnet:hairpin-masquerade: Hairpin: a namespace calling a host address on a forwarded port is DNATed back into br-app; masquerading makes the reply return through the host.
#   ecomnet:jump FORWARD -> ECOMNET-FORWARD: First in FORWARD, so nothing the host has there (a DROP policy, Docker's chains) decides before our rules do.
#     ecomnet:uplink-guard: Test guard: no connection from the container subnet may leave by the real uplink eth0; the only internet tests reach is our simulated one.
#     ecomnet:link-local-reject: No namespace reaches a link-local address (169.254.0.0/16): a cloud's instance metadata service answers there with the machine's credentials.
#     ecomnet:bridge-ingress: From any other interface only replies and port-forwarded (DNATed) connections enter br-app: with ip_forward on and a FORWARD policy ACCEPT, a neighbour routing 10.0.0.0/16 through this host would reach every service directly.
#     ecomnet:published-postgres-ingress: PostgreSQL published on 10.0.0.1:5432 (containers mode) is reached only by the host and the namespaces: a connection arriving on any other interface is dropped.
#     ecomnet:published-postgres-from-order-service: Flow order-service -> postgres-db, whose PostgreSQL is published on 10.0.0.1:5432 in containers mode.
#     ecomnet:published-postgres-deny: East-west, deny by default: no other namespace reaches PostgreSQL published on 10.0.0.1:5432.
#     ecomnet:published-redis-ingress: Redis cache published on 10.0.0.1:6379 (containers mode) is reached only by the host and the namespaces: a connection arriving on any other interface is dropped.
#     ecomnet:published-redis-from-product-service: Flow product-service -> redis-cache, whose Redis cache is published on 10.0.0.1:6379 in containers mode.
#     ecomnet:published-redis-deny: East-west, deny by default: no other namespace reaches Redis cache published on 10.0.0.1:6379.
#     ecomnet:forward-nginx-lb: Forwarded (DNATed) connections may reach nginx-lb:80 even when the FORWARD policy is DROP.
#     ecomnet:bridge-internal: Traffic between namespaces on br-app; needed where br_netfilter passes bridged frames through FORWARD (hosts with Docker).
#     ecomnet:bridge-egress: Namespaces may open connections out of br-app even when the FORWARD policy is DROP.
#     ecomnet:bridge-replies: Replies to connections the namespaces opened come back into br-app.
#   ecomnet:jump INPUT -> ECOMNET-INPUT: First in INPUT: an ACCEPT the host already has there must not let the bridge past our guard.
#     ecomnet:localnet-guard: Nothing on br-app reaches the host's 127.0.0.0/8 but replies (the host's localhost connections, masqueraded out of br-app) and connections a DNAT sent there: route_localnet on br-app would otherwise expose every server bound to loopback (CVE-2020-8558).
#     ecomnet:host-replies: Replies to the host's own connections into br-app, and their ICMP errors.
#     ecomnet:host-icmp: ICMP to the host's address 10.0.0.1, the namespaces' gateway.
#     ecomnet:host-deny: East-west, deny by default: a namespace opens no other connection on the host.
iptables-restore --noflush <<'EOF'
*nat
:ECOMNET-PREROUTING - [0:0]
:ECOMNET-OUTPUT - [0:0]
:ECOMNET-POSTROUTING - [0:0]
-A ECOMNET-PREROUTING -p tcp --dport 8080 -m addrtype --dst-type LOCAL -m comment --comment "ecomnet:dnat-8080" -j DNAT --to-destination 10.0.0.10:80
-A ECOMNET-OUTPUT -p tcp --dport 8080 -m addrtype --dst-type LOCAL -m comment --comment "ecomnet:dnat-8080-local" -j DNAT --to-destination 10.0.0.10:80
-A ECOMNET-POSTROUTING -s 10.0.0.0/16 ! -o br-app -m comment --comment "ecomnet:egress-masquerade" -j MASQUERADE
-A ECOMNET-POSTROUTING -s 127.0.0.0/8 -o br-app -m comment --comment "ecomnet:localhost-masquerade" -j MASQUERADE
-A ECOMNET-POSTROUTING -s 10.0.0.0/16 -o br-app -m conntrack --ctstate DNAT -m comment --comment "ecomnet:hairpin-masquerade" -j MASQUERADE
-I PREROUTING -m comment --comment "ecomnet:jump" -j ECOMNET-PREROUTING
-I OUTPUT -m comment --comment "ecomnet:jump" -j ECOMNET-OUTPUT
-A POSTROUTING -m comment --comment "ecomnet:jump" -j ECOMNET-POSTROUTING
COMMIT
*filter
:ECOMNET-FORWARD - [0:0]
:ECOMNET-INPUT - [0:0]
-A ECOMNET-FORWARD -s 10.0.0.0/16 -o eth0 -m conntrack --ctstate NEW -m comment --comment "ecomnet:uplink-guard" -j REJECT --reject-with icmp-admin-prohibited
-A ECOMNET-FORWARD -s 10.0.0.0/16 -d 169.254.0.0/16 -m comment --comment "ecomnet:link-local-reject" -j REJECT --reject-with icmp-admin-prohibited
-A ECOMNET-FORWARD ! -i br-app -o br-app -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -m comment --comment "ecomnet:bridge-ingress" -j DROP
-A ECOMNET-FORWARD ! -i br-app ! -o br-app -p tcp -m conntrack --ctstate NEW --ctorigdst 10.0.0.1 --ctorigdstport 5432 -m comment --comment "ecomnet:published-postgres-ingress" -j DROP
-A ECOMNET-FORWARD -i br-app ! -o br-app -s 10.0.0.40 -p tcp -m conntrack --ctstate NEW --ctorigdst 10.0.0.1 --ctorigdstport 5432 -m comment --comment "ecomnet:published-postgres-from-order-service" -j ACCEPT
-A ECOMNET-FORWARD -i br-app ! -o br-app -p tcp -m conntrack --ctstate NEW --ctorigdst 10.0.0.1 --ctorigdstport 5432 -m comment --comment "ecomnet:published-postgres-deny" -j REJECT --reject-with icmp-admin-prohibited
-A ECOMNET-FORWARD ! -i br-app ! -o br-app -p tcp -m conntrack --ctstate NEW --ctorigdst 10.0.0.1 --ctorigdstport 6379 -m comment --comment "ecomnet:published-redis-ingress" -j DROP
-A ECOMNET-FORWARD -i br-app ! -o br-app -s 10.0.0.30 -p tcp -m conntrack --ctstate NEW --ctorigdst 10.0.0.1 --ctorigdstport 6379 -m comment --comment "ecomnet:published-redis-from-product-service" -j ACCEPT
-A ECOMNET-FORWARD -i br-app ! -o br-app -p tcp -m conntrack --ctstate NEW --ctorigdst 10.0.0.1 --ctorigdstport 6379 -m comment --comment "ecomnet:published-redis-deny" -j REJECT --reject-with icmp-admin-prohibited
-A ECOMNET-FORWARD -d 10.0.0.10 -p tcp --dport 80 -m comment --comment "ecomnet:forward-nginx-lb" -j ACCEPT
-A ECOMNET-FORWARD -i br-app -o br-app -m comment --comment "ecomnet:bridge-internal" -j ACCEPT
-A ECOMNET-FORWARD -i br-app ! -o br-app -m comment --comment "ecomnet:bridge-egress" -j ACCEPT
-A ECOMNET-FORWARD -o br-app -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "ecomnet:bridge-replies" -j ACCEPT
-A ECOMNET-INPUT -i br-app -d 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -m comment --comment "ecomnet:localnet-guard" -j DROP
-A ECOMNET-INPUT -i br-app -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "ecomnet:host-replies" -j RETURN
-A ECOMNET-INPUT -i br-app -p icmp -m comment --comment "ecomnet:host-icmp" -j RETURN
-A ECOMNET-INPUT -i br-app -m comment --comment "ecomnet:host-deny" -j REJECT --reject-with icmp-admin-prohibited
-I FORWARD -m comment --comment "ecomnet:jump" -j ECOMNET-FORWARD
-I INPUT -m comment --comment "ecomnet:jump" -j ECOMNET-INPUT
COMMIT
EOF

# East-west, deny by default: in each namespace, a chain of ours first in its INPUT lets through only
# the topology's flows (and ICMP, loopback, the host on the service port, replies); it goes with the namespace. IPv6, which the
# lab does not use and the chain does not see, is off there; conntrack accounting is on (ecomnet observe counts bytes per connection)
ip netns exec nginx-lb sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.netfilter.nf_conntrack_acct=1
#   nginx-lb ecomnet:ns-replies: Replies to connections either side opened, and their ICMP errors.
#   nginx-lb ecomnet:ns-loopback: Loopback: nginx-lb reaches itself (the seed's `curl localhost:PORT` inside a namespace).
#   nginx-lb ecomnet:ns-icmp: ICMP between all namespaces: the seed's ping tests (task 1.2).
#   nginx-lb ecomnet:ns-host: The host (10.0.0.1) reaches nginx-lb's service on 80, and no other port.
#   nginx-lb ecomnet:public-80: The port forward's target nginx-lb:80: anyone reaching host port 8080 reaches it, so every source may.
#   nginx-lb ecomnet:ns-deny: Deny by default: no other connection reaches nginx-lb.
ip netns exec nginx-lb iptables-restore --noflush <<'EOF'
*filter
:ECOMNET-INPUT - [0:0]
-A ECOMNET-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "ecomnet:ns-replies" -j RETURN
-A ECOMNET-INPUT -i lo -m comment --comment "ecomnet:ns-loopback" -j RETURN
-A ECOMNET-INPUT -p icmp -m comment --comment "ecomnet:ns-icmp" -j RETURN
-A ECOMNET-INPUT -s 10.0.0.1 -p tcp --dport 80 -m comment --comment "ecomnet:ns-host" -j RETURN
-A ECOMNET-INPUT -p tcp --dport 80 -m comment --comment "ecomnet:public-80" -j RETURN
-A ECOMNET-INPUT -m comment --comment "ecomnet:ns-deny" -j REJECT --reject-with icmp-admin-prohibited
-I INPUT -m comment --comment "ecomnet:jump" -j ECOMNET-INPUT
COMMIT
EOF
ip netns exec api-gateway sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.netfilter.nf_conntrack_acct=1
#   api-gateway ecomnet:ns-replies: Replies to connections either side opened, and their ICMP errors.
#   api-gateway ecomnet:ns-loopback: Loopback: api-gateway reaches itself (the seed's `curl localhost:PORT` inside a namespace).
#   api-gateway ecomnet:ns-icmp: ICMP between all namespaces: the seed's ping tests (task 1.2).
#   api-gateway ecomnet:ns-host: The host (10.0.0.1) reaches api-gateway's service on 3000, and no other port.
#   api-gateway ecomnet:flow-nginx-lb: Flow nginx-lb -> api-gateway: nginx's upstream.
#   api-gateway ecomnet:ns-deny: Deny by default: no other connection reaches api-gateway.
ip netns exec api-gateway iptables-restore --noflush <<'EOF'
*filter
:ECOMNET-INPUT - [0:0]
-A ECOMNET-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "ecomnet:ns-replies" -j RETURN
-A ECOMNET-INPUT -i lo -m comment --comment "ecomnet:ns-loopback" -j RETURN
-A ECOMNET-INPUT -p icmp -m comment --comment "ecomnet:ns-icmp" -j RETURN
-A ECOMNET-INPUT -s 10.0.0.1 -p tcp --dport 3000 -m comment --comment "ecomnet:ns-host" -j RETURN
-A ECOMNET-INPUT -s 10.0.0.10 -p tcp --dport 3000 -m comment --comment "ecomnet:flow-nginx-lb" -j RETURN
-A ECOMNET-INPUT -m comment --comment "ecomnet:ns-deny" -j REJECT --reject-with icmp-admin-prohibited
-I INPUT -m comment --comment "ecomnet:jump" -j ECOMNET-INPUT
COMMIT
EOF
ip netns exec product-service sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.netfilter.nf_conntrack_acct=1
#   product-service ecomnet:ns-replies: Replies to connections either side opened, and their ICMP errors.
#   product-service ecomnet:ns-loopback: Loopback: product-service reaches itself (the seed's `curl localhost:PORT` inside a namespace).
#   product-service ecomnet:ns-icmp: ICMP between all namespaces: the seed's ping tests (task 1.2).
#   product-service ecomnet:ns-host: The host (10.0.0.1) reaches product-service's service on 5000, and no other port.
#   product-service ecomnet:flow-api-gateway: Flow api-gateway -> product-service: /api/products.
#   product-service ecomnet:ns-deny: Deny by default: no other connection reaches product-service.
ip netns exec product-service iptables-restore --noflush <<'EOF'
*filter
:ECOMNET-INPUT - [0:0]
-A ECOMNET-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "ecomnet:ns-replies" -j RETURN
-A ECOMNET-INPUT -i lo -m comment --comment "ecomnet:ns-loopback" -j RETURN
-A ECOMNET-INPUT -p icmp -m comment --comment "ecomnet:ns-icmp" -j RETURN
-A ECOMNET-INPUT -s 10.0.0.1 -p tcp --dport 5000 -m comment --comment "ecomnet:ns-host" -j RETURN
-A ECOMNET-INPUT -s 10.0.0.20 -p tcp --dport 5000 -m comment --comment "ecomnet:flow-api-gateway" -j RETURN
-A ECOMNET-INPUT -m comment --comment "ecomnet:ns-deny" -j REJECT --reject-with icmp-admin-prohibited
-I INPUT -m comment --comment "ecomnet:jump" -j ECOMNET-INPUT
COMMIT
EOF
ip netns exec order-service sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.netfilter.nf_conntrack_acct=1
#   order-service ecomnet:ns-replies: Replies to connections either side opened, and their ICMP errors.
#   order-service ecomnet:ns-loopback: Loopback: order-service reaches itself (the seed's `curl localhost:PORT` inside a namespace).
#   order-service ecomnet:ns-icmp: ICMP between all namespaces: the seed's ping tests (task 1.2).
#   order-service ecomnet:ns-host: The host (10.0.0.1) reaches order-service's service on 5000, and no other port.
#   order-service ecomnet:flow-api-gateway: Flow api-gateway -> order-service: /api/orders.
#   order-service ecomnet:ns-deny: Deny by default: no other connection reaches order-service.
ip netns exec order-service iptables-restore --noflush <<'EOF'
*filter
:ECOMNET-INPUT - [0:0]
-A ECOMNET-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "ecomnet:ns-replies" -j RETURN
-A ECOMNET-INPUT -i lo -m comment --comment "ecomnet:ns-loopback" -j RETURN
-A ECOMNET-INPUT -p icmp -m comment --comment "ecomnet:ns-icmp" -j RETURN
-A ECOMNET-INPUT -s 10.0.0.1 -p tcp --dport 5000 -m comment --comment "ecomnet:ns-host" -j RETURN
-A ECOMNET-INPUT -s 10.0.0.20 -p tcp --dport 5000 -m comment --comment "ecomnet:flow-api-gateway" -j RETURN
-A ECOMNET-INPUT -m comment --comment "ecomnet:ns-deny" -j REJECT --reject-with icmp-admin-prohibited
-I INPUT -m comment --comment "ecomnet:jump" -j ECOMNET-INPUT
COMMIT
EOF
ip netns exec redis-cache sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.netfilter.nf_conntrack_acct=1
#   redis-cache ecomnet:ns-replies: Replies to connections either side opened, and their ICMP errors.
#   redis-cache ecomnet:ns-loopback: Loopback: redis-cache reaches itself (the seed's `curl localhost:PORT` inside a namespace).
#   redis-cache ecomnet:ns-icmp: ICMP between all namespaces: the seed's ping tests (task 1.2).
#   redis-cache ecomnet:ns-host: The host (10.0.0.1) reaches redis-cache's service on 6379, and no other port.
#   redis-cache ecomnet:flow-product-service: Flow product-service -> redis-cache: the product cache.
#   redis-cache ecomnet:ns-deny: Deny by default: no other connection reaches redis-cache.
ip netns exec redis-cache iptables-restore --noflush <<'EOF'
*filter
:ECOMNET-INPUT - [0:0]
-A ECOMNET-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "ecomnet:ns-replies" -j RETURN
-A ECOMNET-INPUT -i lo -m comment --comment "ecomnet:ns-loopback" -j RETURN
-A ECOMNET-INPUT -p icmp -m comment --comment "ecomnet:ns-icmp" -j RETURN
-A ECOMNET-INPUT -s 10.0.0.1 -p tcp --dport 6379 -m comment --comment "ecomnet:ns-host" -j RETURN
-A ECOMNET-INPUT -s 10.0.0.30 -p tcp --dport 6379 -m comment --comment "ecomnet:flow-product-service" -j RETURN
-A ECOMNET-INPUT -m comment --comment "ecomnet:ns-deny" -j REJECT --reject-with icmp-admin-prohibited
-I INPUT -m comment --comment "ecomnet:jump" -j ECOMNET-INPUT
COMMIT
EOF
ip netns exec postgres-db sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.netfilter.nf_conntrack_acct=1
#   postgres-db ecomnet:ns-replies: Replies to connections either side opened, and their ICMP errors.
#   postgres-db ecomnet:ns-loopback: Loopback: postgres-db reaches itself (the seed's `curl localhost:PORT` inside a namespace).
#   postgres-db ecomnet:ns-icmp: ICMP between all namespaces: the seed's ping tests (task 1.2).
#   postgres-db ecomnet:ns-host: The host (10.0.0.1) reaches postgres-db's service on 5432, and no other port.
#   postgres-db ecomnet:flow-order-service: Flow order-service -> postgres-db: the orders table.
#   postgres-db ecomnet:ns-deny: Deny by default: no other connection reaches postgres-db.
ip netns exec postgres-db iptables-restore --noflush <<'EOF'
*filter
:ECOMNET-INPUT - [0:0]
-A ECOMNET-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "ecomnet:ns-replies" -j RETURN
-A ECOMNET-INPUT -i lo -m comment --comment "ecomnet:ns-loopback" -j RETURN
-A ECOMNET-INPUT -p icmp -m comment --comment "ecomnet:ns-icmp" -j RETURN
-A ECOMNET-INPUT -s 10.0.0.1 -p tcp --dport 5432 -m comment --comment "ecomnet:ns-host" -j RETURN
-A ECOMNET-INPUT -s 10.0.0.40 -p tcp --dport 5432 -m comment --comment "ecomnet:flow-order-service" -j RETURN
-A ECOMNET-INPUT -m comment --comment "ecomnet:ns-deny" -j REJECT --reject-with icmp-admin-prohibited
-I INPUT -m comment --comment "ecomnet:jump" -j ECOMNET-INPUT
COMMIT
EOF
