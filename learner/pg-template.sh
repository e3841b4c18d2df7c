#!/usr/bin/env bash
# Makes, once, the PostgreSQL 15 cluster learner/build.sh otherwise makes with initdb on every
# build: superuser postgres with the seed's password postgres, peer login on its socket and
# scram-sha-256 over TCP. Give it to build.sh as LEARNER_PGDATA_TEMPLATE=DIR and it is copied
# (cp -a) instead. build.sh still adds its own pg_hba.conf lines to the copy, so an edit of
# those lines in build.sh takes effect with a template too.
# Usage: learner/pg-template.sh DIR   (DIR must not exist, or be an empty directory this script made)
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
if [ "$(id -u)" -ne 0 ]; then
  exec sudo -E env PATH="$PATH" bash "$0" "$@"
fi
umask 077
PG_BIN=/usr/lib/postgresql/15/bin

die() {
  echo "pg-template: FAILED: $*" >&2
  exit 1
}
[ $# -eq 1 ] || die "usage: $0 DIR"
[ -x "$PG_BIN/initdb" ] || die "needs Debian's postgresql-15 ($PG_BIN)"
# Root makes it and hands it to postgres: never through a link, never into someone else's
# directory. An empty 0700 directory of postgres's is what a run that failed in initdb leaves.
if [ -L "${1%/}" ]; then die "$1 is a symbolic link"; fi
DIR=$(realpath -m -- "$1")
PARENT=$(dirname "$DIR")
[ -d "$PARENT" ] || die "$PARENT does not exist"
runuser -u postgres -- test -x "$PARENT" || die "the postgres user cannot reach $PARENT"
if [ -e "$DIR" ]; then
  if [ ! -d "$DIR" ] || [ -n "$(ls -A "$DIR")" ] || [ "$(stat -c '%U %G %a' "$DIR")" != "postgres postgres 700" ]; then
    die "$DIR exists and is not an empty directory this script made"
  fi
else
  mkdir -m 700 "$DIR"
  chown -h postgres:postgres "$DIR"
fi

pwfile=$(mktemp)
trap 'rm -f "$pwfile"' EXIT
echo postgres >"$pwfile"
chown postgres: "$pwfile"
(cd / && runuser -u postgres -- "$PG_BIN/initdb" -D "$DIR" -U postgres --pwfile="$pwfile" --auth-local=peer --auth-host=scram-sha-256 >/dev/null) ||
  die "initdb failed"
echo "pg-template: $DIR is ready: LEARNER_PGDATA_TEMPLATE=$DIR bash learner/build.sh" >&2
