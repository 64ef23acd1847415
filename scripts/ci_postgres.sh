#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the distributed-search tests and print the URL to use.
#
#   eval "$(bash scripts/ci_postgres.sh)"     # exports CODESIGN_TEST_POSTGRES_URL
#
# Installs PostgreSQL from Debian packages when it is missing (needs root, as on CI), keeps its data in
# $CODESIGN_PG_DATA (default /tmp/codesign-pg), listens on localhost:$CODESIGN_PG_PORT (default 54329)
# with trust authentication (local test server only), and creates the database codesign_test. Safe to
# run twice: a running server and an existing database are reused. Progress goes to stderr; stdout is
# only the export line. Stop the server with: su postgres -c "<bin>/pg_ctl -D $DATA stop".
set -euo pipefail

DATA=${CODESIGN_PG_DATA:-/tmp/codesign-pg}
PORT=${CODESIGN_PG_PORT:-54329}
DB=codesign_test

if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  echo "ci_postgres: installing postgresql (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_postgres() { su postgres -s /bin/bash -c "$*"; }

if [ ! -f "$DATA/PG_VERSION" ]; then
  mkdir -p "$DATA"
  chown postgres "$DATA"
  as_postgres "$BIN/initdb -D $DATA -A trust -U postgres" >&2
fi
if ! as_postgres "$BIN/pg_ctl -D $DATA status" >/dev/null 2>&1; then
  as_postgres "$BIN/pg_ctl -D $DATA -l $DATA/server.log -w -o \"-p $PORT -k /tmp -c listen_addresses=localhost\" start" >&2
fi
if ! as_postgres "$BIN/psql -h localhost -p $PORT -U postgres -Atc \"SELECT 1 FROM pg_database WHERE datname='$DB'\"" | grep -q 1; then
  as_postgres "$BIN/createdb -h localhost -p $PORT -U postgres $DB" >&2
fi
URL="postgresql+psycopg2://postgres@localhost:$PORT/$DB"
echo "ci_postgres: server up at $URL" >&2
echo "export CODESIGN_TEST_POSTGRES_URL=$URL"
