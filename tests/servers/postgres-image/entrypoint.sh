#!/bin/sh
# As the official image's entry point does: a new cluster on the first start (its superuser POSTGRES_USER with
# POSTGRES_PASSWORD, a database POSTGRES_DB), then the server, listening on LISTEN_ADDRESSES (default: every address).
set -eu
bin=$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)
user=${POSTGRES_USER:-postgres}
mkdir -p /var/run/postgresql && chown postgres /var/run/postgresql  # its sockets' folder
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA" && chown postgres "$PGDATA" && chmod 700 "$PGDATA"
    printf '%s\n' "$POSTGRES_PASSWORD" > /tmp/password && chown postgres /tmp/password
    runuser -u postgres -- "$bin/initdb" -D "$PGDATA" -U "$user" --pwfile=/tmp/password --auth-host=scram-sha-256 \
        --auth-local=trust >/dev/null
    rm /tmp/password
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    runuser -u postgres -- "$bin/pg_ctl" -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    if [ "${POSTGRES_DB:-$user}" != postgres ]; then
        runuser -u postgres -- "$bin/createdb" -U "$user" "${POSTGRES_DB:-$user}"
    fi
    runuser -u postgres -- "$bin/pg_ctl" -D "$PGDATA" -w stop >/dev/null
fi
exec runuser -u postgres -- "$bin/postgres" -D "$PGDATA" -c "listen_addresses=${LISTEN_ADDRESSES:-*}"
