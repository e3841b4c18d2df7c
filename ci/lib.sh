# Sourced by .ci/run (and by the test of its counting): one counted run of the suites.
# Needs $tally (a file ci/tally.ts sums into); node and this checkout's node_modules on PATH.
ci_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# counted NAME JUNIT COMMAND...: runs COMMAND and adds its tests (from JUNIT) to the tally, with
# one more failure for a non-zero exit, a missing JUNIT, and anything left on the host after it.
counted() {
  local name=$1 junit=$2 before problems=() code
  shift 2
  before=$(mktemp)
  node "$ci_dir/host-state.ts" save "$before"
  "$@"
  code=$?
  node "$ci_dir/host-state.ts" compare "$before" || problems+=("left something on the host")
  rm -f "$before"
  node "$ci_dir/tally.ts" add "$tally" "$name" "$code" "$junit" "${problems[@]}"
}

# docker_rules_undo BEFORE AFTER: what dockerd added to iptables between two iptables-save
# snapshots (BEFORE it started, AFTER it was ready), as "TABLE COMMAND" lines that undo it: its
# rules in the built-in chains deleted, its own chains flushed and then removed, a built-in
# chain's policy it changed put back. A rule anyone else added, before or since, is in neither
# difference and stays (a full iptables-restore of BEFORE would erase it).
docker_rules_undo() {
  # A table missing from BEFORE was not loaded yet: its built-in chains were empty, policy ACCEPT.
  awk '
    { file = FILENAME == ARGV[1] ? 1 : 2 }
    /^\*/ { table = substr($1, 2); next }
    /^:/ {
      chain = substr($1, 2)
      if (file == 1) { policy[table, chain] = $2; next }
      if ($2 == "-") {
        if (!((table, chain) in policy)) { added[table, chain] = 1; chains[++nc] = table " " chain }
      } else {
        was = (table, chain) in policy ? policy[table, chain] : "ACCEPT"
        if ($2 != was) policies[++np] = table " -P " chain " " was
      }
      next
    }
    /^-A / {
      if (file == 1) { had[table, $0] = 1; next }
      if (!((table, $2) in added) && !((table, $0) in had)) { sub(/^-A /, "-D "); rules[++nr] = table " " $0 }
    }
    END {
      for (i = nr; i >= 1; i--) print rules[i]
      for (i = 1; i <= nc; i++) { split(chains[i], c, " "); print c[1] " -F " c[2] }
      for (i = 1; i <= nc; i++) { split(chains[i], c, " "); print c[1] " -X " c[2] }
      for (i = 1; i <= np; i++) print policies[i]
    }
  ' "$1" "$2"
}

# undo_docker_rules BEFORE AFTER: applies docker_rules_undo, one command at a time through
# iptables-restore (which parses a rule's quoting itself: nothing of a rule reaches a shell), so
# one already gone does not keep the others.
undo_docker_rules() {
  local table command
  while read -r table command; do
    printf '*%s\n%s\nCOMMIT\n' "$table" "$command" | iptables-restore --noflush 2>/dev/null || echo "iptables: already gone in $table: $command"
  done < <(docker_rules_undo "$1" "$2")
}
