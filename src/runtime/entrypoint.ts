/**
 * The data containers' entrypoint, the same for the official images and the local ones: the
 * secret arrives as a root-only file copied into the container before it starts, so it is in no
 * environment, command line, healthcheck or `docker inspect`, and the server reads it as its own.
 */

/** Where the secrets are copied (root, 0600); the entrypoint hands each to the server's user. */
export const SECRETS_DIR = '/run/secrets';
export const POSTGRES_PASSWORD_FILE = `${SECRETS_DIR}/postgres-password`;
export const REDIS_CONF_FILE = `${SECRETS_DIR}/redis.conf`;
export const ENTRYPOINT_FILE = '/usr/local/bin/ecomnet-entrypoint.sh';

/**
 * PostgreSQL: on first start initdb with POSTGRES_USER's password read from its file
 * (scram-sha-256 from any address), POSTGRES_DB created in single-user mode, the file removed.
 * Redis: redis-server from its configuration file, which holds requirepass. setpriv (util-linux,
 * in every Debian image) else gosu (the official images') drops root.
 */
export const entrypointScript = `#!/bin/sh
set -eu
as() {
  user=$1; shift
  if command -v setpriv >/dev/null; then exec setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"; fi
  exec gosu "$user" "$@"
}
case "$1" in
postgres)
  shift
  user=\${POSTGRES_USER:-postgres}
  db=\${POSTGRES_DB:-$user}
  install -d -o postgres -g postgres -m 0700 "$PGDATA"
  install -d -o postgres -g postgres -m 2775 /run/postgresql
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    chown postgres ${POSTGRES_PASSWORD_FILE}
    (as postgres initdb -D "$PGDATA" -U "$user" --pwfile=${POSTGRES_PASSWORD_FILE} --auth=scram-sha-256 --encoding=UTF8 --no-locale)
    rm -f ${POSTGRES_PASSWORD_FILE}
    echo 'host all all all scram-sha-256' >> "$PGDATA/pg_hba.conf"
    # Single-user mode runs as the bootstrap superuser, whatever POSTGRES_USER is.
    if [ "$db" != postgres ]; then echo "CREATE DATABASE \\"$db\\";" | (as postgres postgres --single -D "$PGDATA" postgres) >/dev/null; fi
  fi
  as postgres postgres -D "$PGDATA" -c listen_addresses='*' "$@"
  ;;
redis-server)
  shift
  install -d -o redis -g redis -m 0700 /data
  chown redis ${REDIS_CONF_FILE}
  cd /data
  as redis redis-server ${REDIS_CONF_FILE} "$@"
  ;;
*)
  exec "$@"
  ;;
esac
`;
