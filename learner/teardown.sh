#!/usr/bin/env bash
# Undo learner/build.sh: exactly what it recorded in $LEARNER_DIR/state, newest first. Anything
# already gone is skipped, so it is safe after a half-finished build or a second time.
set -uo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
if [ "$(id -u)" -ne 0 ]; then
  exec sudo -E env PATH="$PATH" bash "$0" "$@"
fi

LEARNER_DIR="${LEARNER_DIR:-/var/tmp/ecomnet-learner}"
STATE="$LEARNER_DIR/state"
PG_BIN=/usr/lib/postgresql/15/bin

say() { echo "learner teardown: $*" >&2; }

# Only what build.sh recorded is touched: the same names may belong to another platform. With
# no record, build.sh changed nothing (it writes the record first) and the directory is not ours.
if [ ! -f "$STATE" ]; then
  say "nothing to undo (no $STATE)"
  exit 0
fi

# Processes first: a namespace deleted under a running process leaves the process behind.
say "stopping the services"
pids=()
ours=" $(grep '^netns ' "$STATE" | cut -d' ' -f2 | tr '\n' ' ') "
# The pid files, but only a process still in one of our namespaces: a stale pid may be reused.
for f in "$LEARNER_DIR"/*.pid "$LEARNER_DIR/nginx/nginx.pid"; do
  [ -s "$f" ] || continue
  pid=$(cat "$f")
  ns=$(ip netns identify "$pid" 2>/dev/null)
  [ -n "$ns" ] && [[ "$ours" == *" $ns "* ]] && pids+=("$pid")
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

while read -r _ name; do
  say "removing container $name"
  docker rm -f "$name" >/dev/null 2>&1
done < <(grep '^docker ' "$STATE")

while read -r _ dir; do
  if [ -f "$dir/postmaster.pid" ]; then
    say "stopping the host's PostgreSQL ($dir)"
    (cd "$LEARNER_DIR" && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1)
  fi
done < <(grep '^pgdata ' "$STATE")

say "deleting iptables rules"
while read -r _ words; do
  read -ra args <<<"$words"
  # The recorded -A/-I becomes -D: the same rule spec deletes the rule that was added.
  for i in "${!args[@]}"; do
    case "${args[$i]}" in -A | -I) args[i]=-D ;; esac
  done
  iptables "${args[@]}" 2>/dev/null || say "rule already gone: $words"
done < <(tac "$STATE" | grep '^iptables ')

say "deleting namespaces and links"
while read -r _ ns; do
  ip netns del "$ns" 2>/dev/null
done < <(grep '^netns ' "$STATE")
# Deleting a namespace takes its veth end, and the peer with it; this catches ends never moved.
while read -r _ link; do
  ip link show "$link" >/dev/null 2>&1 && ip link del "$link" 2>/dev/null
done < <(tac "$STATE" | grep '^link ')

# Newest first, so the value found before the first change is the one left.
while read -r _ setting; do
  say "restoring $setting"
  sysctl -q -w "$setting" >/dev/null
done < <(tac "$STATE" | grep '^sysctl ')

rm -rf "$LEARNER_DIR"
say "done"
