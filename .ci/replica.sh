#!/usr/bin/env bash
# A real streaming replica of the local PostgreSQL primary, for the replica tests (issue 19 §3).
#
#   .ci/replica.sh start   copy the primary with pg_basebackup into a temporary directory and
#                          start it as a hot standby on REPLICA_PORT; prints its URL
#   .ci/replica.sh stop    stop it and delete the directory
#
# The primary must accept replication connections: where its pg_hba.conf has no replication
# line for 127.0.0.1, one (trust, like the machine's other local lines) is added and the
# configuration reloaded. No replication slot is made, so a replica left behind never holds
# WAL on the primary. PostgreSQL refuses to run as root: as root the cluster runs as postgres.
set -euo pipefail

PRIMARY_HOST="${PRIMARY_HOST:-127.0.0.1}"
PRIMARY_PORT="${PRIMARY_PORT:-5432}"
PRIMARY_USER="${PRIMARY_USER:-postgres}"
REPLICA_PORT="${REPLICA_PORT:-5433}"
REPLICA_DIR="${REPLICA_DIR:-${TMPDIR:-/tmp}/kongchuo-replica-${REPLICA_PORT}}"
PG_BIN="${PG_BIN:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}"
[ -x "$PG_BIN/pg_ctl" ] || PG_BIN=/usr/lib/postgresql/15/bin

as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

primary() {
    psql -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U "$PRIMARY_USER" -d postgres -Atqc "$1"
}

allow_replication() {
    if pg_basebackup_check; then
        return
    fi
    local hba
    hba="$(primary 'show hba_file')"
    echo "replica: adding a replication line for 127.0.0.1 to $hba" >&2
    printf '\n# kongchuo CI (.ci/replica.sh): streaming replicas on this machine\nhost replication %s 127.0.0.1/32 trust\n' \
        "$PRIMARY_USER" >>"$hba"
    primary 'select pg_reload_conf()' >/dev/null
    sleep 1
    pg_basebackup_check || { echo "replica: the primary still refuses replication" >&2; exit 1; }
}

pg_basebackup_check() {
    psql "host=$PRIMARY_HOST port=$PRIMARY_PORT user=$PRIMARY_USER replication=true" \
        -Atqc 'IDENTIFY_SYSTEM' >/dev/null 2>&1
}

stop() {
    if [ -f "$REPLICA_DIR/postmaster.pid" ]; then
        as_owner "$PG_BIN/pg_ctl" -D "$REPLICA_DIR" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$REPLICA_DIR"
}

start() {
    stop
    if [ "$(primary 'show wal_level')" = minimal ]; then
        echo "replica: the primary's wal_level is minimal; set it to replica and restart it" >&2
        exit 1
    fi
    allow_replication
    mkdir -p "$REPLICA_DIR"
    chmod 700 "$REPLICA_DIR"
    [ "$(id -u)" = 0 ] && chown postgres: "$REPLICA_DIR"
    # -R writes standby.signal and primary_conninfo: the copy starts as a streaming standby.
    as_owner "$PG_BIN/pg_basebackup" -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U "$PRIMARY_USER" \
        -D "$REPLICA_DIR" -X stream -c fast -R
    # A hot standby needs at least the primary's values of these.
    local copied
    copied="$(primary "select string_agg(name || ' = ' || setting, E'\n') from pg_settings
        where name in ('max_connections', 'max_worker_processes', 'max_wal_senders',
                       'max_prepared_transactions', 'max_locks_per_transaction')")"
    as_owner tee "$REPLICA_DIR/postgresql.conf" >/dev/null <<EOF
port = $REPLICA_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$REPLICA_DIR'
hot_standby = on
hot_standby_feedback = on
shared_buffers = 32MB
logging_collector = off
$copied
EOF
    as_owner tee "$REPLICA_DIR/pg_hba.conf" >/dev/null <<EOF
local all all trust
host all all 127.0.0.1/32 trust
EOF
    # Debian's cluster keeps its configuration outside the data directory; the primary's
    # postgresql.auto.conf (copied with the data) still applies after ours.
    as_owner "$PG_BIN/pg_ctl" -D "$REPLICA_DIR" -l "$REPLICA_DIR/replica.log" -w -t 60 start >/dev/null
    local in_recovery
    in_recovery="$(psql -h 127.0.0.1 -p "$REPLICA_PORT" -U "$PRIMARY_USER" -d postgres -Atqc 'select pg_is_in_recovery()')"
    if [ "$in_recovery" != t ]; then
        echo "replica: the server on port $REPLICA_PORT is not a standby" >&2
        exit 1
    fi
    echo "replica: a hot standby of $PRIMARY_HOST:$PRIMARY_PORT on 127.0.0.1:$REPLICA_PORT ($REPLICA_DIR)" >&2
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
