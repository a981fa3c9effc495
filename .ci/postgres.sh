#!/usr/bin/env bash
# Install and start a throwaway PostgreSQL server on loopback for the storage tests.
# Writes the SQLAlchemy URL to .ci/pg_url (gitignored); tests read it (or $MARKSOCR_TEST_PG_URL).
# Idempotent: a second run finds the running server and returns at once.
set -euo pipefail
cd "$(dirname "$0")/.."
URL_FILE=.ci/pg_url
PGDIR=${MARKSOCR_PG_DIR:-${TMPDIR:-/tmp}/marksocr-ci-pg}
DB=marksocr_test
PGUSER_NAME=marksocr

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

BIN=$(find_bin || true)
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  echo "ci: installing PostgreSQL from Debian packages"
  if [ "$(id -u)" != 0 ]; then echo "ci: need root to install postgresql" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
  BIN=$(find_bin)
fi

# Run server commands as an unprivileged user: postgres refuses to run as root.
if [ "$(id -u)" = 0 ]; then
  RUN_AS=(runuser -u postgres --)
else
  RUN_AS=()
fi

running() { [ -f "$PGDIR/port" ] && "$BIN/pg_isready" -q -h 127.0.0.1 -p "$(cat "$PGDIR/port")"; }

if running; then
  PORT=$(cat "$PGDIR/port")
else
  if [ ! -f "$PGDIR/data/PG_VERSION" ]; then
    rm -rf "$PGDIR"
    mkdir -p "$PGDIR"
    [ "$(id -u)" = 0 ] && chown postgres: "$PGDIR"
    "${RUN_AS[@]}" "$BIN/initdb" -D "$PGDIR/data" -U "$PGUSER_NAME" --auth=trust -E UTF8 --no-locale >"$PGDIR/initdb.log" 2>&1 \
      || { cat "$PGDIR/initdb.log" >&2; exit 1; }
  fi
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  echo "$PORT" > "$PGDIR/port"
  "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 30 \
    -o "-h 127.0.0.1 -p $PORT -k $PGDIR -c fsync=off -c full_page_writes=off -c max_connections=50" start >/dev/null \
    || { cat "$PGDIR/server.log" >&2; exit 1; }
fi

if ! "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U "$PGUSER_NAME" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1; then
  "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U "$PGUSER_NAME" "$DB"
fi

echo "postgresql+psycopg://$PGUSER_NAME@127.0.0.1:$PORT/$DB" > "$URL_FILE"
echo "ci: PostgreSQL ready at $(cat "$URL_FILE") (data in $PGDIR)"
