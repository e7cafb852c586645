#!/usr/bin/env bash
# The Debian package as a user gets it: installed with dpkg over the system PostgreSQL 15 after the
# extension's files are removed (so everything used comes from the package), then CREATE EXTENSION,
# an update from the oldest release, embeddings of a photo and of words, and a query through a
# fashrec_ivf index in a temporary cluster; the package is purged after. It writes the files
# `cargo pgrx install` writes: run it under the shared lock (flock /tmp/fashrec-pg.lock).
set -euo pipefail
DEB=${1:?usage: package-test.sh PACKAGE.deb}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
NAME=$(dpkg-deb --field "$DEB" Package)
EXT=$("$PG_CONFIG" --sharedir)/extension
LIB=$("$PG_CONFIG" --pkglibdir)

trap 'dpkg --purge "$NAME" >/dev/null' EXIT
rm -rf "$LIB/fashrec.so" "$LIB/fashrec_onnxruntime" "$EXT"/fashrec.control "$EXT"/fashrec--*.sql "$EXT/fashrec_models"
dpkg -i "$DEB" >/dev/null
for so in $(dpkg -L "$NAME" | grep '\.so'); do
    if ldd "$so" | grep 'not found'; then echo "$so: a library it needs is missing" >&2; exit 1; fi
done
oldest=$(ls "$HERE"/../sql/fashrec--*.sql | sed -n 's|.*/fashrec--\([^-]*\)\.sql$|\1|p' | sort -V | head -1)
pg_virtualenv -v 15 psql -X -q -v ON_ERROR_STOP=1 -v oldest="$oldest" \
    -v photo="$(base64 -w0 "$HERE/../training/reference/photo_60005.jpg")" <<'SQL'
CREATE EXTENSION fashrec VERSION :'oldest';
ALTER EXTENSION fashrec UPDATE;
SELECT 'updated from ' || :'oldest' || ' to ' || extversion AS updated FROM pg_extension WHERE extname = 'fashrec' \gset
\echo package: :updated
CREATE TABLE items (id int PRIMARY KEY, v vector);
INSERT INTO items SELECT i, embed_text(format('%s %s no %s', (ARRAY['black', 'red', 'navy'])[i % 3 + 1],
    (ARRAY['dress', 'sneaker', 'coat', 'bag', 'shirt'])[i % 5 + 1], i)) FROM generate_series(1, 60) i;
INSERT INTO items VALUES (0, embed_image(decode(:'photo', 'base64')));
CREATE INDEX ON items USING fashrec_ivf (v) WITH (lists = 4);
SET enable_seqscan = off;
SET fashrec_ivf.probes = 4;
CREATE FUNCTION pg_temp.plan(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    line text;
    plan text := '';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN ' || query LOOP
        plan := plan || line || E'\n';
    END LOOP;
    RETURN plan;
END $$;
CREATE TEMP TABLE smoke AS SELECT
    pg_temp.plan(format('SELECT id FROM items ORDER BY v <-> embed_image(%L) LIMIT 1', decode(:'photo', 'base64')))
        LIKE '%Index Scan using items_v_idx%' AS index_plan,
    (SELECT id FROM items ORDER BY v <-> embed_image(decode(:'photo', 'base64')) LIMIT 1) AS nearest_to_the_photo,
    (SELECT vector_dims(v) FROM items WHERE id = 1) AS dims;
\pset footer off
TABLE smoke;
DO $$
BEGIN
    IF NOT (SELECT index_plan AND nearest_to_the_photo = 0 FROM smoke) THEN
        RAISE EXCEPTION 'package smoke test failed: %', (SELECT row_to_json(s) FROM smoke s);
    END IF;
END $$;
SQL
