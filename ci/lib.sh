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
