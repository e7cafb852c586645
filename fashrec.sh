#!/usr/bin/env bash
# fashrec.sh: the project's two commands and the local cluster.
#
#   ./fashrec.sh demo     the main job: install what is missing, build and install the extension,
#                         start the project-local PostgreSQL cluster, load the catalog, embed it,
#                         index it, run example queries, draw out/recommendations.png, evaluate
#   ./fashrec.sh test     install what is missing and run every test (what CI runs)
#   ./fashrec.sh setup    only install what is missing
#   ./fashrec.sh install  build the extension and install it (with the models) into PostgreSQL
#   ./fashrec.sh shop     serve the storefront over the demo database (after demo): its URL is printed
#   ./fashrec.sh package [PROFILE]   build target/debian/postgresql-15-fashrec_VERSION_ARCH.deb
#   ./fashrec.sh evaluate [DIR]   measure the running demo database: report in DIR (out/evaluation)
#   ./fashrec.sh start | stop | status | psql [args]   the local cluster (127.0.0.1:$FASHREC_PORT)
#
# Everything is idempotent: a second run skips what is done.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PG_MAJOR=15
PGBIN=/usr/lib/postgresql/$PG_MAJOR/bin
PG_CONFIG=$PGBIN/pg_config
PORT=${FASHREC_PORT:-5499}
PGDATA_DIR=${FASHREC_PGDATA:-$ROOT/.pgdata}
DEMO_URL="postgresql://postgres@127.0.0.1:$PORT/fashrec"
DEPS=$ROOT/.deps
VENV=$DEPS/venv
ORT_VERSION=1.32.0
CARGO_PGRX_VERSION=0.18.1
APT_PACKAGES=(postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR libclang-dev clang pkg-config
    sudo dataset-fashion-mnist unzip chromium)
PY_PACKAGES=(pytest==8.3.4 "psycopg[binary]==3.2.3" pgvector==0.3.6 numpy==2.1.3 matplotlib==3.11.2 pillow==13.0.0 playwright==1.65.2)

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
# PostgreSQL refuses to run as root, so the cluster belongs to the postgres user when we are root.
as_pg() { if [ "$(id -u)" = 0 ]; then sudo -u postgres "$@"; else "$@"; fi; }

setup_apt() {
    local missing=()
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing Debian packages: ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

setup_pgrx() {
    if ! cargo pgrx --version 2>/dev/null | grep -q "$CARGO_PGRX_VERSION"; then
        say "installing cargo-pgrx $CARGO_PGRX_VERSION (about 5 minutes, once)"
        cargo install cargo-pgrx --version "$CARGO_PGRX_VERSION" --locked
    fi
    if ! grep -qs "^pg$PG_MAJOR = \"$PG_CONFIG\"" "${PGRX_HOME:-$HOME/.pgrx}/config.toml"; then
        say "pointing cargo-pgrx at PostgreSQL $PG_MAJOR"
        cargo pgrx init --pg$PG_MAJOR "$PG_CONFIG" >/dev/null
    fi
}

# ONNX Runtime's shared library, taken from the PyPI wheel (no other download source works offline).
setup_onnxruntime() {
    local lib=$DEPS/onnxruntime/libonnxruntime.so.$ORT_VERSION
    [ -f "$lib" ] && return
    say "fetching the ONNX Runtime $ORT_VERSION library from its PyPI wheel"
    mkdir -p "$DEPS/wheels" "$DEPS/onnxruntime"
    python3 -m pip download -q --no-deps --only-binary=:all: -d "$DEPS/wheels" "onnxruntime==$ORT_VERSION"
    unzip -q -o -j "$DEPS"/wheels/onnxruntime-$ORT_VERSION-*.whl "onnxruntime/capi/libonnxruntime.so*" -d "$DEPS/onnxruntime"
    [ -f "$lib" ] || die "the onnxruntime wheel did not contain libonnxruntime.so.$ORT_VERSION"
}

setup_python() {
    local stamp=$VENV/.installed-$(printf '%s\n' "${PY_PACKAGES[@]}" | md5sum | cut -c1-12)
    [ -f "$stamp" ] && return
    say "creating the Python environment for tests in .deps/venv"
    python3 -m venv "$VENV" || { as_root apt-get install -y -qq python3-venv >/dev/null && python3 -m venv "$VENV"; }
    "$VENV/bin/pip" install -q "${PY_PACKAGES[@]}"
    touch "$stamp"
}

setup() {
    command -v cargo >/dev/null || die "cargo not found: install Rust with rustup first"
    command -v python3 >/dev/null || die "python3 not found: install Python 3 first"
    setup_apt
    setup_pgrx
    setup_onnxruntime
    setup_python
}

# Builds the extension with cargo profile $1 (default release) and installs it into the system
# PostgreSQL $PG_MAJOR.
install_extension() {
    local profile=${1:-release}
    say "building and installing the extension ($profile)"
    local flags=() stage=$ROOT/target/install-$profile
    [ "$profile" = release ] || flags=(--profile "$profile")
    # Build into a staging folder (what cargo pgrx install would copy), then replace the installed
    # files: the build takes minutes, and for that long the library would be missing for every new
    # backend of every cluster (a demo's load failed with 'could not access file "$libdir/fashrec"'
    # while another checkout rebuilt).
    rm -rf "$stage"
    (cd "$ROOT" && cargo pgrx package "${flags[@]}" --pg-config "$PG_CONFIG" --out-dir "$stage" >/dev/null)
    # Unlink the installed libraries first: copying over a file that running backends have mapped
    # kills them with SIGBUS (seen with two worktrees sharing this installation); an unlinked file
    # stays valid for whoever has it mapped, and new backends load the new one.
    as_root rm -f "$("$PG_CONFIG" --pkglibdir)/fashrec.so" "$("$PG_CONFIG" --pkglibdir)/fashrec_onnxruntime/libonnxruntime.so.$ORT_VERSION"
    as_root cp -r "$stage/." /
    # The install scripts of earlier releases (CREATE EXTENSION fashrec VERSION '0.1.0', and what
    # ALTER EXTENSION UPDATE starts from); cargo pgrx install copies only the upgrade scripts.
    as_root cp "$ROOT"/sql/fashrec--*.sql "$("$PG_CONFIG" --sharedir)/extension/"
    # The models and the ONNX Runtime library go where the extension looks for them by default
    # (settings fashrec.model_dir and fashrec.onnxruntime_library override both).
    local models lib
    models="$("$PG_CONFIG" --sharedir)/extension/fashrec_models"
    lib="$("$PG_CONFIG" --pkglibdir)/fashrec_onnxruntime"
    as_root mkdir -p "$lib"
    as_root cp "$DEPS/onnxruntime/libonnxruntime.so.$ORT_VERSION" "$lib/"
    if [ -f "$ROOT/models/manifest.json" ]; then
        as_root rm -rf "$models"
        as_root cp -r "$ROOT/models" "$models"
    fi
}

# Builds the Debian package postgresql-15-fashrec with cargo profile $1 (default release): the
# library, its control file and SQL (with the earlier releases' install scripts and the upgrade
# scripts), the models and the ONNX Runtime library, where the extension looks for them by
# default. Depends on postgresql-15 and what every Debian 12 has. Its path goes to stdout.
package_deb() {
    local profile=${1:-release} version arch stage deb
    version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -1)
    arch=$(dpkg --print-architecture)
    stage=$ROOT/target/debian/postgresql-$PG_MAJOR-fashrec
    deb=$ROOT/target/debian/postgresql-$PG_MAJOR-fashrec_${version}_$arch.deb
    say "building the Debian package ($profile)" >&2
    local flags=()
    [ "$profile" = release ] || flags=(--profile "$profile")
    rm -rf "$stage"
    (cd "$ROOT" && cargo pgrx package "${flags[@]}" --pg-config "$PG_CONFIG" --out-dir "$stage" >/dev/null)
    local ext lib
    ext=$stage$("$PG_CONFIG" --sharedir)/extension
    lib=$stage$("$PG_CONFIG" --pkglibdir)
    cp "$ROOT"/sql/fashrec--*.sql "$ext/"
    cp -r "$ROOT/models" "$ext/fashrec_models"
    mkdir -p "$lib/fashrec_onnxruntime" "$stage/DEBIAN"
    cp "$DEPS/onnxruntime/libonnxruntime.so.$ORT_VERSION" "$lib/fashrec_onnxruntime/"
    cat > "$stage/DEBIAN/control" <<EOF
Package: postgresql-$PG_MAJOR-fashrec
Version: $version
Architecture: $arch
Maintainer: fashrec <fashrec@localhost>
Depends: postgresql-$PG_MAJOR, libc6, libgcc-s1, libstdc++6
Section: database
Priority: optional
Installed-Size: $(du -sk "$stage" | cut -f1)
Description: multimodal product search and recommendation inside PostgreSQL $PG_MAJOR
 The fashrec extension: a pgvector-compatible vector type, the fashrec_ivf index, embedding
 functions running ONNX models in the backend (models and ONNX Runtime included),
 recommendations and triggers that keep a shop table's embeddings in sync.
EOF
    dpkg-deb --root-owner-group -Zzstd --build "$stage" "$deb" >/dev/null
    echo "$deb"
}

cluster_running() { [ -f "$PGDATA_DIR/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; }

start() {
    if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
        say "creating the local cluster in $PGDATA_DIR"
        mkdir -p "$PGDATA_DIR"
        [ "$(id -u)" = 0 ] && chown postgres: "$PGDATA_DIR" && chmod 700 "$PGDATA_DIR"
        as_pg test -w "$PGDATA_DIR" || die "$PGDATA_DIR is not writable by the postgres user; set FASHREC_PGDATA to a folder it can write"
        as_pg "$PGBIN/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if ! cluster_running; then
        say "starting the local cluster on 127.0.0.1:$PORT"
        as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGDATA_DIR/server.log" -w start \
            -o "-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories='$PGDATA_DIR'" >/dev/null
    fi
}

stop() { cluster_running && as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null; say "local cluster stopped"; }

local_psql() { "$PGBIN/psql" -X -h 127.0.0.1 -p "$PORT" -U postgres "$@"; }

# Creates the extension in database fashrec, or updates it (ALTER EXTENSION fashrec UPDATE, which
# keeps the tables, vectors and indexes) when the installed version is newer. A development build
# whose SQL changed under the same version cannot be updated: only then are the extension and the
# demo data that depends on it recreated.
refresh_extension() {
    local script stamp=$PGDATA_DIR/fashrec-extension.md5 sum version have
    version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -1)
    script="$("$PG_CONFIG" --sharedir)/extension/fashrec--$version.sql"
    # Of the sorted lines: cargo pgrx writes the same objects in a different order on every build,
    # and an unsorted sum made every rerun after a rebuild drop the embedded catalog.
    sum=$(sort "$script" | md5sum | cut -d' ' -f1)
    have=$(local_psql -d fashrec -tAc "SELECT extversion FROM pg_extension WHERE extname = 'fashrec'")
    if [ -n "$have" ] && [ "$have" != "$version" ]; then
        say "updating the extension from $have to $version (ALTER EXTENSION fashrec UPDATE)"
        local_psql -d fashrec -qc "ALTER EXTENSION fashrec UPDATE"
    elif [ -n "$have" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" != "$sum" ]; then
        say "the extension's SQL changed within version $version (a development build): recreating it and the demo data"
        PGOPTIONS="-c client_min_messages=warning" local_psql -d fashrec -qc \
            "DROP TABLE IF EXISTS products; DROP EXTENSION IF EXISTS fashrec CASCADE"
    fi
    PGOPTIONS="-c client_min_messages=warning" local_psql -d fashrec -qc "CREATE EXTENSION IF NOT EXISTS fashrec"
    as_pg sh -c "echo $sum > '$stamp'"
}

# The stored product vectors are what the product-side models made (the image embedder, the
# product words model, the manifest's product weights and shared blocks): when those change, the
# demo computes every vector again and rebuilds the index, as "Versions and upgrades" in README.md
# tells a shop to. Query-side changes leave them valid. A database from before this stamp counts
# as changed.
refresh_embeddings() {
    local stamp=$PGDATA_DIR/fashrec-products.md5 sum embedded
    sum=$(python3 - "$ROOT/models/manifest.json" <<'PY' | md5sum | cut -d' ' -f1
import json, sys
m = json.load(open(sys.argv[1]))
p = m["product"]
side = [m["image"]["sha256"], m["text"]["product_words"]["sha256"]]
print(json.dumps(side + [p.get(k) for k in ("dims", "image_weight", "words_weight", "shared_blocks", "blocks")]))
PY
)
    embedded=$(local_psql -d fashrec -tAc "SELECT to_regclass('products') IS NOT NULL")
    [ "$embedded" = t ] && embedded=$(local_psql -d fashrec -tAc \
        "SELECT EXISTS (SELECT FROM products WHERE embedding IS NOT NULL)")
    if [ "$embedded" = t ] && [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
        say "the product-side models changed: computing every product vector again and rebuilding the index"
        local_psql -d fashrec -qc "DROP INDEX IF EXISTS products_embedding_idx; UPDATE products SET embedding = NULL"
    fi
    as_pg sh -c "echo $sum > '$stamp'"
}

demo() {
    local began=$SECONDS
    setup
    install_extension
    start
    local_psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'fashrec'" | grep -q 1 \
        || local_psql -d postgres -qc "CREATE DATABASE fashrec"
    refresh_extension
    (cd "$ROOT" && cargo build --release -q -p fashrec-cli)
    say "loading the Fashion-MNIST catalog into table products"
    "$ROOT/target/release/fashrec" load --url "$DEMO_URL"
    refresh_embeddings
    say "computing the product vector (picture and keywords) of every product (a rerun only does the missing ones)"
    "$ROOT/target/release/fashrec" embed --url "$DEMO_URL"
    say "building the fashrec_ivf index (lists = square root of the rows; gender and category checked in it)"
    local_psql -d fashrec -q <<'SQL'
SELECT format('CREATE INDEX IF NOT EXISTS products_embedding_idx ON products USING fashrec_ivf (gender, embedding, category) WITH (lists = %s)',
              greatest(1, round(sqrt(count(*))))::int) FROM products \gexec
ANALYZE products;
SQL
    local_psql -d fashrec -c "SELECT category, count(*) AS products, round(avg(price), 2) AS avg_price,
        string_agg(DISTINCT gender, ', ') AS genders FROM products GROUP BY category ORDER BY category"
    say "example queries"
    local_psql -d fashrec -q -v photo="$(base64 -w0 "$ROOT/training/reference/photo_60005.jpg")" -f "$ROOT/demo/queries.sql"
    say "drawing the recommendation sheet and measuring the system"
    "$VENV/bin/python" "$ROOT/demo/sheet.py" --url "$DEMO_URL" --out "$ROOT/out/recommendations.png"
    evaluate
    say "done in $(( (SECONDS - began) / 60 )) min $(( (SECONDS - began) % 60 )) s"
    cat <<EOF
Look at:  out/recommendations.png     top-5 products for a photo, words, a product, a shopper
          out/evaluation/report.md    top-k accuracy and MRR, index and exhaustive, beside the seed's
Then try: ./fashrec.sh psql           (psql on database fashrec, 127.0.0.1:$PORT, user postgres)
          SELECT id, name, price FROM products WHERE gender IN ('women', 'unisex')
          ORDER BY embedding <-> embed_text('summer dress') LIMIT 5;
          SELECT * FROM recommend_for_text('black canvas shoes', 5, for_gender => 'men');
          SELECT * FROM recommend_similar(19, 5);
          demo/queries.sql has more; README.md documents every function.
Browse:   ./fashrec.sh shop           (the storefront over this catalog, at http://127.0.0.1:8099/)
EOF
}

# Serves the storefront (crates/shop) over the demo database, as the role its setup SQL makes.
shop() {
    cluster_running || die "the local cluster is not running: ./fashrec.sh demo first"
    local_psql -d fashrec -tAc "SELECT count(*) FROM products WHERE embedding IS NOT NULL" 2>/dev/null | grep -qv '^0$' \
        || die "the demo database has no embedded products: ./fashrec.sh demo first"
    say "the shop's table and role (crates/shop/sql/setup.sql)"
    PGOPTIONS="-c client_min_messages=warning" local_psql -d fashrec -q -v ON_ERROR_STOP=1 -f "$ROOT/crates/shop/sql/setup.sql"
    say "building the shop"
    (cd "$ROOT" && cargo build --release -q -p fashrec-shop)
    say "serving the shop (Ctrl-C stops it)"
    exec "$ROOT/target/release/fashrec-shop" --url "postgresql://fashrec_shop@127.0.0.1:$PORT/fashrec" \
        --port "${FASHREC_SHOP_PORT:-8099}"
}

# Measures the demo database into a report folder (default out/evaluation).
evaluate() {
    setup_python
    cluster_running || die "the local cluster is not running: ./fashrec.sh demo first"
    "$VENV/bin/python" "$ROOT/demo/evaluate.py" --url "$DEMO_URL" --out "${1:-$ROOT/out/evaluation}"
}

setup_lints() {
    # rustup installs of Rust have these components; a distribution's cargo may not
    for c in rustfmt clippy; do
        if ! rustup component list --installed 2>/dev/null | grep -q "^$c"; then
            say "installing the Rust component $c"
            rustup component add "$c"
        fi
    done
}

test_all() {
    setup
    setup_lints
    cd "$ROOT"
    say "formatting and lints (cargo fmt --check, clippy -D warnings)"
    cargo fmt --all --check
    # One cargo profile for every build here (see [profile.ci] in Cargo.toml): clippy under it
    # shares the build scripts (pgrx-pg-sys runs bindgen) and proc macros with the builds below.
    cargo clippy --profile ci --workspace --all-targets -q -- -D warnings
    say "unit tests of the PostgreSQL-free crates"
    cargo test --profile ci --workspace --exclude fashrec
    say "in-server tests (cargo pgrx test)"
    local pgrx_data=/tmp/fashrec-pgrx-test-$(id -u)
    mkdir -p "$pgrx_data" && { [ "$(id -u)" != 0 ] || chown postgres: "$pgrx_data"; }
    local runas=()
    [ "$(id -u)" = 0 ] && runas=(--runas postgres)
    cargo pgrx test pg$PG_MAJOR --profile ci "${runas[@]}" --pgdata "$pgrx_data"
    say "the Debian package, installed with dpkg (then removed)"
    "$ROOT/tests/package-test.sh" "$(package_deb ci)"
    install_extension ci
    cargo build --profile ci -p fashrec-cli -p fashrec-shop
    say "SQL regression and client tests in fresh backends (temporary cluster)"
    local out
    out=$(mktemp -d /tmp/fashrec-regress.XXXXXX)
    chmod 777 "$out"
    FASHREC_CLI=$ROOT/target/ci/fashrec FASHREC_SHOP=$ROOT/target/ci/fashrec-shop PATH=$VENV/bin:$PATH \
        pg_virtualenv -v $PG_MAJOR "$ROOT/tests/run-server-tests.sh" "$out"
}

case "${1:-}" in
    setup) setup ;;
    install) setup; install_extension ;;
    package) setup; package_deb "${2:-release}" ;;
    evaluate) shift; evaluate "$@" ;;
    demo) demo ;;
    shop) shop ;;
    test) test_all ;;
    start) start ;;
    stop) stop ;;
    status) if cluster_running; then echo "running on 127.0.0.1:$PORT ($PGDATA_DIR)"; else echo "stopped"; fi ;;
    psql) shift; local_psql -d fashrec "$@" ;;
    *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
