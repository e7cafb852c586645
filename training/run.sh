#!/usr/bin/env bash
# Reproduce every file in models/ (plus training/results/ and training/reference/):
#   training/run.sh [--from STAGE | --only STAGE]
# Creates training/.venv from requirements.txt, exports the catalog with the fashrec CLI into
# training/work/catalog (FASHREC_BIN=path/to/fashrec skips the cargo build; an existing complete
# export is reused), then runs the stages of fashrec_train.pipeline. Every stage resumes or is
# cached: rerun after an interruption and it continues. CPU only is fine (2 cores, ~1.5 h).
set -euo pipefail
cd "$(dirname "$0")"
ROOT="$(cd .. && pwd)"
VENV=.venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r requirements.txt

EXPORT="${FASHREC_EXPORT:-$(pwd)/work/catalog}"
if [ ! -f "$EXPORT/export.json" ]; then
  BIN="${FASHREC_BIN:-}"
  if [ -z "$BIN" ]; then
    TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
    (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" nice -n 5 cargo build --release -p fashrec-cli)
    BIN="$TARGET/release/fashrec"
  fi
  "$BIN" export --out "$EXPORT"
fi

export FASHREC_EXPORT="$EXPORT"
export OMP_WAIT_POLICY=PASSIVE          # no spinning threads on a shared 2-core machine
export FASHREC_THREADS="${FASHREC_THREADS:-2}"
exec nice -n 5 "$VENV/bin/python" -m fashrec_train.pipeline "$@"
