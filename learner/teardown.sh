#!/usr/bin/env bash
# Undo learner/build.sh: exactly what it recorded in $LEARNER_DIR/state, newest first. Anything
# already gone is skipped, so it is safe after a half-finished build or a second time.
set -uo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
if [ "$(id -u)" -ne 0 ]; then
  exec sudo -E env PATH="$PATH" bash "$0" "$@"
fi

LEARNER_DIR="${LEARNER_DIR:-/run/ecomnet-learner}"
STATE="$LEARNER_DIR/state"
PG_BIN=/usr/lib/postgresql/15/bin
PG_CONTAINER=ecomnet-learner-postgres

say() { echo "learner teardown: $*" >&2; }

# Only what build.sh recorded is touched: the same names may belong to another platform. With
# no record, build.sh changed nothing (it writes the record first) and the directory is not ours.
if [ ! -e "$STATE" ] && [ ! -L "$STATE" ]; then
  say "nothing to undo (no $STATE)"
  exit 0
fi
# Root runs what the record says, so it must be one build.sh wrote: in a directory of root's that
# no one else could have made or changed (as build.sh demands of it), itself root's.
mode() { echo $((0$(stat -c %a "$1"))); }
trusted() { [ ! -L "$1" ] && [ "$(stat -c %u "$1")" = 0 ] && [ $(($(mode "$1") & 022)) = 0 ]; }
if [ "$(realpath -m "$LEARNER_DIR")" != "$LEARNER_DIR" ] || ! [ -d "$LEARNER_DIR" ] || ! trusted "$LEARNER_DIR" || ! [ -f "$STATE" ] || ! trusted "$STATE"; then
  say "REFUSED: $LEARNER_DIR or its state is not root's alone (a link, or writable by others): not build.sh's; nothing done"
  exit 1
fi
d=$LEARNER_DIR
while [ "$d" != / ]; do
  d=$(dirname "$d")
  if [ "$(stat -c %u "$d")" != 0 ] || { [ $(($(mode "$d") & 022)) != 0 ] && [ ! -k "$d" ]; }; then
    say "REFUSED: $d, above LEARNER_DIR, can be changed by others than root: nothing done"
    exit 1
  fi
done

# Each entry is held to the shapes build.sh writes; anything else is left alone with a warning.
name='[A-Za-z0-9_.-]{1,15}'
ipv4='([0-9]{1,3}\.){3}[0-9]{1,3}'
port='[0-9]{1,5}'
rule_shapes=(
  "^-t nat -A POSTROUTING -s $ipv4/[0-9]{1,2} (! )?-o $name -j MASQUERADE$"
  "^-t nat -A PREROUTING -p tcp --dport $port -j DNAT --to-destination $ipv4:$port$"
  "^-A FORWARD -p tcp -d $ipv4 --dport $port -j ACCEPT$"
  "^-I FORWARD -[io] $name -j ACCEPT$"
)
valid() {
  local kind=$1 value=$2 shape
  case "$kind" in
    pg-mode) [[ "$value" =~ ^(namespace|host|docker)$ ]] ;;
    netns | link) [[ "$value" =~ ^$name$ ]] ;;
    sysctl) [[ "$value" =~ ^(net\.ipv4\.ip_forward|net\.ipv4\.conf\.all\.forwarding)=[01]$ ]] ;;
    docker) [ "$value" = "$PG_CONTAINER" ] ;;
    pgdata) [[ "$value" =~ ^[A-Za-z0-9_./-]+$ ]] && [ "$(dirname "$value")" = "$LEARNER_DIR" ] && [ "$(basename "$value")" = pgdata ] ;;
    iptables)
      for shape in "${rule_shapes[@]}"; do [[ "$value" =~ $shape ]] && return 0; done
      return 1
      ;;
    *) return 1 ;;
  esac
}
entries=()
while IFS= read -r line || [ -n "$line" ]; do
  kind=${line%% *} value=${line#* }
  if [ "$kind" != "$line" ] && valid "$kind" "$value"; then entries+=("$line"); else say "WARNING: ignoring an entry build.sh does not write: $line"; fi
done <"$STATE"
# The valid entries of one kind, their values one a line; newest first with `tac`.
of() { local e; for e in "${entries[@]}"; do [ "${e%% *}" = "$1" ] && printf '%s\n' "${e#* }"; done; return 0; }

# PostgreSQL first, by its own fast shutdown (it may run in postgres-db, whose processes go next).
while read -r dir; do
  if [ -d "$dir" ] && [ ! -L "$dir" ] && [ -f "$dir/postmaster.pid" ]; then
    say "stopping PostgreSQL ($dir)"
    (cd "$LEARNER_DIR" && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1)
  fi
done < <(of pgdata)

# Processes next: a namespace deleted under a running process leaves the process behind.
say "stopping the services"
pids=()
ours=" $(of netns | tr '\n' ' ') "
# The pid files, but only a process still in one of our namespaces, or one that started before
# its pid file was written (a server a mistyped line started on the host): a stale pid may have
# been reused, by a process started after ours ended.
boot=$(awk '$1 == "btime" { print $2 }' /proc/stat)
tick=$(getconf CLK_TCK)
started_before() {
  local stat
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
  read -ra stat <<<"${stat##*) }"
  awk -v b="$boot" -v t="$tick" -v s="${stat[19]}" -v m="$(stat -c %.3Y "$2")" 'BEGIN { exit !(b + s / t <= m + 0.02) }'
}
for f in "$LEARNER_DIR"/*.pid "$LEARNER_DIR/nginx/nginx.pid"; do
  if [ ! -f "$f" ] || [ -L "$f" ]; then continue; fi
  pid=$(head -c 20 "$f")
  if ! [[ "$pid" =~ ^[0-9]+$ ]] || [ "$pid" -le 1 ]; then continue; fi
  ns=$(ip netns identify "$pid" 2>/dev/null)
  if { [ -n "$ns" ] && [[ "$ours" == *" $ns "* ]]; } || started_before "$pid" "$f"; then pids+=("$pid"); fi
done
# Whatever else still runs in our namespaces (nginx's workers, a service whose pid file was lost).
for ns in $ours; do
  while read -r pid; do pids+=("$pid"); done < <(ip netns pids "$ns" 2>/dev/null)
done
# Running, not merely not yet reaped: the services outlived build.sh, so whoever adopted them reaps
# them, and an init that reaps late (or never, as in a container without one) leaves zombies that
# kill -0 still finds.
running() {
  local stat
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}
if [ "${#pids[@]}" -gt 0 ]; then
  kill -TERM "${pids[@]}" 2>/dev/null
  for _ in $(seq 50); do
    alive=0
    for pid in "${pids[@]}"; do running "$pid" && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  kill -KILL "${pids[@]}" 2>/dev/null
fi

while read -r name; do
  say "removing container $name"
  docker rm -f "$name" >/dev/null 2>&1
done < <(of docker)

say "deleting iptables rules"
while read -r words; do
  read -ra args <<<"$words"
  # The recorded -A/-I becomes -D: the same rule spec deletes the rule that was added.
  for i in "${!args[@]}"; do
    case "${args[$i]}" in -A | -I) args[i]=-D ;; esac
  done
  iptables "${args[@]}" 2>/dev/null || say "rule already gone: $words"
done < <(of iptables | tac)

say "deleting namespaces and links"
while read -r ns; do
  ip netns del "$ns" 2>/dev/null
done < <(of netns)
# Deleting a namespace takes its veth end, and the peer with it; this catches ends never moved.
# Only a bridge or a veth, and never the host's way out.
uplink=$(ip route show default 2>/dev/null | sed -n 's/.* dev \([^ ]*\).*/\1/p' | head -1)
while read -r link; do
  [ "$link" != "$uplink" ] || continue
  ip -d link show "$link" 2>/dev/null | grep -qE '^ +(bridge|veth) ' && ip link del "$link" 2>/dev/null
done < <(of link | tac)

# Newest first, so the value found before the first change is the one left.
while read -r setting; do
  say "restoring $setting"
  sysctl -q -w "$setting" >/dev/null
done < <(of sysctl | tac)

rm -rf "$LEARNER_DIR"
say "done"
