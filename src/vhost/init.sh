#!/usr/bin/env bash
# PID 1 of a virtual host (src/vhost/vhost.ts): run by `unshare --net --mount --pid --ipc --uts
# --fork` as root. It makes this mount namespace a machine of its own, wires an uplink `eth0` to a
# simulated world that lives inside it, prints "ready", then waits on its standard input: when the
# process that made it closes that pipe, or dies, this shell exits and the kernel ends every
# process of the PID namespace with it, which frees the namespaces, links, rules and mounts.
# Few processes on purpose (each costs a couple of ms): one mount for most filesystems, builtins
# where the kernel takes a plain write, one ip batch a side.
# Args: HOSTNAME FORWARD_POLICY(ACCEPT|DROP) DOCKER_CHAINS(0|1) BRIDGE_NF(0|1|-) WORLD(0|1|lan)
#       HOST_CIDR CLIENT_CIDR INTERNET_CIDR INTERNET_PORT NGINX [KEEP...]
# KEEP: paths under /tmp, /run or /dev/shm that stay seen inside, read-only (the grader's own code
# and Node, when they live there): held on a bind mount of this namespace's own before those
# directories are covered (a mount can only be bound from the namespace it belongs to).
set -eu
name=$1 policy=$2 docker=$3 bridge_nf=$4 with_world=$5 host_cidr=$6 client_cidr=$7 internet_cidr=$8 internet_port=$9 nginx=${10}
shift 10
scratch=/run/.vhost
hold=/mnt
if [ $# -gt 0 ] && [ ! -d "$hold" ]; then
  echo "vhost: no $hold to hold $* on: they are not seen inside" >&2
  set --
fi
if [ $# -gt 0 ]; then
  mount -t tmpfs vhost-hold "$hold"
  i=0
  for k in "$@"; do
    mkdir "$hold/$i" && mount --bind "$k" "$hold/$i"
    i=$((i + 1))
  done
fi

# Private /run (its own /run/netns: `ip netns add` here is seen only here).
mount -t tmpfs -o mode=0755,nosuid,nodev vhost-run /run
# Writable copies of the machine's directories: a build may add accounts (/etc/passwd), data
# (/var/lib), packages (/usr/local), homes; all of it lands in this host's memory and goes with it.
writable=()
for d in /etc /var /usr /opt /srv /home /root; do [ -d "$d" ] && writable+=("$d"); done
mkdir -p /run/netns "${writable[@]/#/$scratch/upper}" "${writable[@]/#/$scratch/work}"
{
  echo "vhost-tmp /tmp tmpfs mode=1777,nosuid,nodev 0 0"
  echo "vhost-shm /dev/shm tmpfs mode=1777,nosuid,nodev 0 0"
  for d in "${writable[@]}"; do echo "vhost-${d#/} $d overlay lowerdir=$d,upperdir=$scratch/upper$d,workdir=$scratch/work$d 0 0"; done
  i=0
  for k in "$@"; do
    echo "$hold/$i ${k// /\\040} none bind,ro,X-mount.mkdir 0 0"
    i=$((i + 1))
  done
  # Its own names: `mount -a` passes over an entry that looks mounted already, as the machine's proc would.
  echo "vhost-proc /proc proc defaults 0 0"
  # Its own sysfs: /sys/class/net lists this host's links, not the machine's.
  echo "vhost-sys /sys sysfs defaults 0 0"
} >"$scratch/fstab"
mount -a -T "$scratch/fstab"
# The held copies are bound where they belong: the holding place goes (/mnt is the machine's again).
[ $# -eq 0 ] || umount -l "$hold"
# Everything else the machine has mounted stays as it is, read-only: nothing here writes to it.
while read -r _ _ _ _ point _; do
  case "$point" in
    /run* | /tmp* | /dev* | /proc* | /sys*) ;;
    /etc | /var | /usr | /opt | /srv | /home | /root) ;;
    *) mount -o remount,bind,ro "$point" 2>/dev/null || true ;;
  esac
done </proc/self/mountinfo
echo "$name" >/proc/sys/kernel/hostname
[ "$bridge_nf" = - ] || echo "$bridge_nf" >/proc/sys/net/bridge/bridge-nf-call-iptables

# The simulated world: a network namespace of its own, named by a file no `ip netns list` shows.
# WORLD=lan: the world's end of eth0 alone, with no external client, internet host or address
# (the switch of an underlay, which vhost.ts joinLan builds there).
if [ "$with_world" != 0 ]; then
  : >"$scratch/world"
  unshare --net="$scratch/world" true
  host_lines='' world_lines=''
  if [ "$with_world" = 1 ]; then
    host_lines="addr add $host_cidr dev eth0
route add default via ${client_cidr%/*}"
    world_lines="addr add $client_cidr dev wan0
addr add $internet_cidr dev wan0"
  fi
  ip -batch - <<EOF
link set lo up
link add eth0 type veth peer name wan0 netns $scratch/world
link set eth0 up
$host_lines
EOF
  nsenter --net="$scratch/world" ip -batch - <<EOF
link set lo up
link set wan0 up
$world_lines
EOF
else
  ip link set lo up
fi
if [ "$docker" = 1 ]; then
  # The chains Docker leaves on a GitHub runner's FORWARD, with its DROP policy.
  iptables-restore <<'EOF'
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
COMMIT
EOF
elif [ "$policy" != ACCEPT ]; then
  iptables -P FORWARD "$policy"
fi

# The internet host: answers any request with the address it saw, as a "what is my IP" service.
if [ "$with_world" = 1 ]; then
  printf '%s\n' "pid $scratch/internet.pid;" "error_log $scratch/internet.log;" 'events { worker_connections 64; }' 'http {' '    access_log off;' \
    "    server { listen ${internet_cidr%/*}:$internet_port; location / { default_type text/plain; return 200 \"\$remote_addr\\n\"; } }" '}' >"$scratch/internet.conf"
  nsenter --net="$scratch/world" "$nginx" -c "$scratch/internet.conf" -e "$scratch/internet.log"
fi

echo ready
# Until whoever made this host lets go of it (EOF), or dies (the kernel closes its end).
while read -r _; do :; done
