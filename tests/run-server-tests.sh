#!/usr/bin/env bash
# The tests that need a running server, run by `./fashrec.sh test` inside pg_virtualenv (a
# temporary cluster; PGHOST, PGPORT, PGUSER and PGPASSWORD point at it). The extension must be
# installed. SQL regression tests run each file in a fresh backend; then the pytest suite.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:?usage: run-server-tests.sh OUTPUT_DIR}
BIN=/usr/lib/postgresql/15/bin
REGRESS=$(dirname "$("$BIN/pg_config" --pgxs)")/../test/regress/pg_regress

mapfile -t tests < <(cd "$HERE/sql/sql" && ls ./*.sql | sed 's|^\./||; s|\.sql$||')
if ! "$REGRESS" --bindir="$BIN" --inputdir="$HERE/sql" --outputdir="$OUT" \
        --dbname=fashrec_regress "${tests[@]}"; then
    cat "$OUT/regression.diffs"
    exit 1
fi
# Tests that write files (the shop's screenshots) put them under OUTPUT_DIR.
FASHREC_TEST_OUT=$OUT python3 -m pytest -q -p no:cacheprovider "$HERE/integration"
