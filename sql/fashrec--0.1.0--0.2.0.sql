-- fashrec 0.1.0 -> 0.2.0 (ALTER EXTENSION fashrec UPDATE): every SQL change since release 0.1.0
-- (sql/fashrec--0.1.0.sql, what pgrx generated then). tests/integration/test_upgrade.py compares
-- an updated database's catalog with a fresh install's and names what this script misses.

-- Attaching a shop's own table (sql/attach.sql, src/embed/rows.rs).
CREATE FUNCTION fashrec_embed_rows(relation text, key_column text, keys text[], images bytea[],
                                   texts text[], on_error text) RETURNS vector[]
STABLE PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'fashrec_embed_rows_wrapper';

-- The statement that embeds the rows of `source` (a table or the inserted rows) and writes the
-- embeddings into `relation`, matched by key, 1,000 rows per model run (an array of images stays
-- far below the 1 GB limit of a value). Rows whose embedding would not change are not written.
CREATE FUNCTION fashrec_embed_statement(relation regclass, source text, key text, image text,
                                        words text, embedding text, on_error text)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN format(
    'WITH fashrec_batch AS (
         SELECT array_agg(k) AS keys,
                fashrec_embed_rows(%1$L, %2$L, array_agg(k)::text[], array_agg(i), %3$s, %4$L) AS vectors
         FROM (SELECT %5$I AS k, %6$I AS i, %7$s AS w, (row_number() OVER () - 1) / 1000 AS chunk
               FROM %8$s) s
         GROUP BY chunk)
     UPDATE %9$s t SET %10$I = e.v
     FROM fashrec_batch b, unnest(b.keys, b.vectors) AS e(k, v)
     WHERE t.%5$I = e.k AND t.%10$I IS DISTINCT FROM e.v',
    relation::text, key, CASE WHEN words = '' THEN 'NULL::text[]' ELSE 'array_agg(w)' END, on_error,
    key, image, CASE WHEN words = '' THEN 'NULL::text' ELSE quote_ident(words) END, source,
    relation, embedding);

-- fashrec_embed_insert: the rows an INSERT or COPY added, embedded in one go.
CREATE FUNCTION fashrec_embed_inserted() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    EXECUTE fashrec_embed_statement(TG_RELID, 'fashrec_inserted', TG_ARGV[0], TG_ARGV[1],
                                    TG_ARGV[2], TG_ARGV[3], TG_ARGV[4]);
    RETURN NULL;
END $$;

-- fashrec_embed_update: the new embedding of a row whose image or text changed.
CREATE FUNCTION fashrec_embed_updated() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    v vector;
BEGIN
    EXECUTE format('SELECT (fashrec_embed_rows($1, %L, ARRAY[($2).%I::text], ARRAY[($2).%I], %s, %L))[1]',
                   TG_ARGV[0], TG_ARGV[0], TG_ARGV[1],
                   CASE WHEN TG_ARGV[2] = '' THEN 'NULL::text[]' ELSE format('ARRAY[($2).%I]', TG_ARGV[2]) END,
                   TG_ARGV[4])
    INTO v USING TG_RELID::regclass::text, NEW;
    -- A record's field named at run time is set through jsonb (the vector's text is exact).
    RETURN jsonb_populate_record(NEW, jsonb_build_object(TG_ARGV[3], v));
END $$;

-- The attachments of this database: one row per attached table.
CREATE VIEW fashrec_attachments AS
SELECT t.tgrelid::regclass AS relation, a[1] AS key, a[2] AS image, nullif(a[3], '') AS text,
       a[4] AS embedding, a[5] AS on_error
FROM pg_trigger t,
     LATERAL (SELECT string_to_array(encode(t.tgargs, 'escape'), '\000')) AS args(a)
WHERE t.tgname = 'fashrec_embed_insert'
  AND t.tgfoid = 'fashrec_embed_inserted()'::regprocedure;

-- A column of `relation` for fashrec_attach: it must exist and have one of the given types.
CREATE FUNCTION fashrec_attach_column(relation regclass, role text, col text, types regtype[])
RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    col_type regtype;
BEGIN
    IF col IS NULL THEN
        RAISE EXCEPTION 'fashrec_attach needs the name of the % column', role
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT a.atttypid::regtype INTO col_type FROM pg_attribute a
    WHERE a.attrelid = relation AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table % has no column "%" (the % column)', relation, col, role
            USING ERRCODE = 'undefined_column';
    END IF;
    IF NOT col_type = ANY (types) THEN
        RAISE EXCEPTION 'the % column "%" of % is of type %, not %', role, col, relation, col_type,
                        array_to_string(types, ' or ')
            USING ERRCODE = 'datatype_mismatch';
    END IF;
END $$;

-- The single NOT NULL column with a unique index that names a row of `relation`: `key` if given,
-- else the primary key.
CREATE FUNCTION fashrec_attach_key(relation regclass, key text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    pk text;
BEGIN
    IF key IS NULL THEN
        SELECT a.attname INTO pk FROM pg_index i
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE i.indrelid = relation AND i.indisprimary AND i.indnkeyatts = 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'table % has no single-column primary key to name its rows by', relation
                USING ERRCODE = 'invalid_table_definition',
                      HINT = 'Give key => a NOT NULL column with a unique index.';
        END IF;
        RETURN pk;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = relation AND attname = key
                   AND attnum > 0 AND NOT attisdropped) THEN
        RAISE EXCEPTION 'table % has no column "%" (the key column)', relation, key
            USING ERRCODE = 'undefined_column';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_index i JOIN pg_attribute a
                   ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                   WHERE i.indrelid = relation AND i.indisunique AND i.indnkeyatts = 1
                     AND i.indpred IS NULL AND i.indexprs IS NULL AND a.attname = key AND a.attnotnull) THEN
        RAISE EXCEPTION 'the key column "%" of % must be NOT NULL and have a unique index of its own', key, relation
            USING ERRCODE = 'invalid_table_definition';
    END IF;
    RETURN key;
END $$;

CREATE FUNCTION fashrec_attach(relation regclass, image text, text text DEFAULT NULL,
                               embedding text DEFAULT 'embedding', key text DEFAULT NULL,
                               on_error text DEFAULT 'error', backfill boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $$
DECLARE
    words text := coalesce(fashrec_attach.text, '');
    row_key text;
    sources text;
BEGIN
    IF relation IS NULL THEN
        RAISE EXCEPTION 'fashrec_attach needs a table' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF (SELECT relkind FROM pg_class WHERE oid = relation) <> 'r' THEN
        RAISE EXCEPTION '% is not an ordinary table', relation USING ERRCODE = 'wrong_object_type';
    END IF;
    IF on_error IS NULL OR on_error NOT IN ('error', 'null') THEN
        RAISE EXCEPTION 'on_error must be ''error'' or ''null'', not %', coalesce(quote_literal(on_error), 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = '''error'' fails a statement holding a row that cannot be embedded; ''null'' leaves its embedding NULL with a WARNING.';
    END IF;
    IF EXISTS (SELECT FROM fashrec_attachments a WHERE a.relation = fashrec_attach.relation) THEN
        RAISE EXCEPTION '% is already attached', relation
            USING ERRCODE = 'duplicate_object', HINT = 'fashrec_detach it first to attach it otherwise.';
    END IF;
    PERFORM fashrec_attach_column(relation, 'image', image, ARRAY['bytea'::regtype]);
    IF words <> '' THEN
        PERFORM fashrec_attach_column(relation, 'text', words, ARRAY['text', 'varchar', 'bpchar']::regtype[]);
    END IF;
    PERFORM fashrec_attach_column(relation, 'embedding', embedding, ARRAY['vector'::regtype]);
    row_key := fashrec_attach_key(relation, key);
    IF embedding IN (image, words, row_key) THEN
        RAISE EXCEPTION 'the embedding column "%" cannot also be a source or the key', embedding
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    EXECUTE format('CREATE TRIGGER fashrec_embed_insert AFTER INSERT ON %s
                    REFERENCING NEW TABLE AS fashrec_inserted FOR EACH STATEMENT
                    EXECUTE FUNCTION fashrec_embed_inserted(%L, %L, %L, %L, %L)',
                   relation, row_key, image, words, embedding, on_error);
    sources := CASE WHEN words = '' THEN format('%I', image) ELSE format('%I, %I', image, words) END;
    EXECUTE format('CREATE TRIGGER fashrec_embed_update BEFORE UPDATE OF %s ON %s FOR EACH ROW
                    WHEN (%s)
                    EXECUTE FUNCTION fashrec_embed_updated(%L, %L, %L, %L, %L)',
                   sources, relation,
                   CASE WHEN words = '' THEN format('OLD.%1$I IS DISTINCT FROM NEW.%1$I', image)
                        ELSE format('OLD.%1$I IS DISTINCT FROM NEW.%1$I OR OLD.%2$I IS DISTINCT FROM NEW.%2$I', image, words) END,
                   row_key, image, words, embedding, on_error);
    IF backfill THEN
        EXECUTE fashrec_embed_statement(relation,
                    format('(SELECT * FROM ONLY %s WHERE %I IS NULL) AS missing', relation, embedding),
                    row_key, image, words, embedding, on_error);
    END IF;
END $$;

CREATE FUNCTION fashrec_detach(relation regclass) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM fashrec_attachments a WHERE a.relation = fashrec_detach.relation) THEN
        RAISE EXCEPTION '% is not attached', relation USING ERRCODE = 'undefined_object';
    END IF;
    EXECUTE format('DROP TRIGGER fashrec_embed_insert ON %s', relation);
    EXECUTE format('DROP TRIGGER IF EXISTS fashrec_embed_update ON %s', relation);
END $$;

COMMENT ON FUNCTION fashrec_attach(regclass, text, text, text, text, text, boolean) IS 'Keeps a table''s embedding column equal to embed_product(image, text) (embed_image(image) without text) on INSERT, COPY and UPDATE of the sources, one model run per statement for inserts; key: a unique NOT NULL column naming rows in errors (default: the primary key); on_error ''error'' fails the statement naming the row, ''null'' leaves its embedding NULL with a WARNING; backfill embeds the rows whose embedding is NULL now.';
COMMENT ON FUNCTION fashrec_detach(regclass) IS 'Removes what fashrec_attach installed on a table; its embeddings stay.';
COMMENT ON VIEW fashrec_attachments IS 'The tables fashrec_attach keeps embedded, with their key, source, embedding columns and on_error.';
COMMENT ON FUNCTION fashrec_embed_rows(text, text, text[], bytea[], text[], text) IS 'Internal (the triggers of fashrec_attach): the embeddings of rows given as arrays, one model run; a row that cannot be embedded is named by its key.';
COMMENT ON FUNCTION fashrec_embed_statement(regclass, text, text, text, text, text, text) IS 'Internal: the UPDATE that embeds a set of rows of an attached table.';
COMMENT ON FUNCTION fashrec_embed_inserted() IS 'Internal: the statement trigger of fashrec_attach that embeds inserted rows.';
COMMENT ON FUNCTION fashrec_embed_updated() IS 'Internal: the row trigger of fashrec_attach that re-embeds a row whose image or text changed.';
COMMENT ON FUNCTION fashrec_attach_column(regclass, text, text, regtype[]) IS 'Internal: checks a column named to fashrec_attach.';
COMMENT ON FUNCTION fashrec_attach_key(regclass, text) IS 'Internal: the key column fashrec_attach names rows by.';

-- Recommendations over any table (sql/recommend_any.sql).
-- Recommendations over any catalog table, a shop's own (attached or not): the table's row type
-- names it, `NULL::shop.items`, so each result is the whole row with its own id type and
-- columns; the shop's own names for the embedding, gender and category columns. It runs the one
-- ordinary query recommend_for_embedding runs (only the filters that apply, so a fashrec_ivf
-- index holding those columns checks them), which stays the documented core to copy and adapt.
CREATE FUNCTION fashrec_recommend(catalog anyelement, query vector, k int DEFAULT 10,
                                  for_gender text DEFAULT NULL, in_category text DEFAULT NULL,
                                  embedding text DEFAULT 'embedding', gender text DEFAULT 'gender',
                                  category text DEFAULT 'category')
RETURNS TABLE (item anyelement, score float8)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    relation regclass := (SELECT typrelid::regclass FROM pg_type WHERE oid = pg_typeof(catalog) AND typrelid <> 0);
    genders text[] := fashrec_genders(for_gender);
BEGIN
    PERFORM fashrec_check_request(for_gender, k);
    IF relation IS NULL OR (SELECT relkind FROM pg_class WHERE oid = relation) NOT IN ('r', 'p', 'v', 'm', 'f') THEN
        RAISE EXCEPTION 'fashrec_recommend needs the row type of a table, as NULL::shop.items, not %', pg_typeof(catalog)
            USING ERRCODE = 'wrong_object_type';
    END IF;
    PERFORM fashrec_attach_column(relation, 'embedding', embedding, ARRAY['vector'::regtype]);
    IF genders IS NOT NULL THEN
        PERFORM fashrec_attach_column(relation, 'gender', gender, ARRAY['text', 'varchar', 'bpchar']::regtype[]);
    END IF;
    IF in_category IS NOT NULL THEN
        PERFORM fashrec_attach_column(relation, 'category', category, ARRAY['text', 'varchar', 'bpchar']::regtype[]);
    END IF;
    IF query IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format(
        'SELECT t, fashrec_similarity(t.%1$I, $1) FROM %2$s t WHERE true%3$s%4$s ORDER BY t.%1$I <-> $1 LIMIT $2',
        embedding, relation,
        CASE WHEN genders IS NULL THEN '' ELSE format(' AND t.%I = ANY ($3)', gender) END,
        CASE WHEN in_category IS NULL THEN '' ELSE format(' AND t.%I = $4', category) END)
    USING query, k, genders, in_category;
END $$;

COMMENT ON FUNCTION fashrec_recommend(anyelement, vector, int, text, text, text, text, text) IS 'The k rows of any table (named by its row type: NULL::shop.items) nearest to a query embedding, with optional gender preference and category on the shop''s own column names; returns (item, score), item the whole row.';

-- Cross-type comparisons on filter columns (sql/index.sql).
-- An integer column compared with another integer type (`stock = $1` with a bigint parameter,
-- as client libraries send), and a real column with double precision, are checked in the index
-- too: each column type's family holds the operators with every other width on the right.
ALTER OPERATOR FAMILY int2_filter_ops USING fashrec_ivf ADD
    OPERATOR 1 < (int2, int4), OPERATOR 2 <= (int2, int4), OPERATOR 3 = (int2, int4),
    OPERATOR 4 >= (int2, int4), OPERATOR 5 > (int2, int4),
    OPERATOR 1 < (int2, int8), OPERATOR 2 <= (int2, int8), OPERATOR 3 = (int2, int8),
    OPERATOR 4 >= (int2, int8), OPERATOR 5 > (int2, int8);
ALTER OPERATOR FAMILY int4_filter_ops USING fashrec_ivf ADD
    OPERATOR 1 < (int4, int2), OPERATOR 2 <= (int4, int2), OPERATOR 3 = (int4, int2),
    OPERATOR 4 >= (int4, int2), OPERATOR 5 > (int4, int2),
    OPERATOR 1 < (int4, int8), OPERATOR 2 <= (int4, int8), OPERATOR 3 = (int4, int8),
    OPERATOR 4 >= (int4, int8), OPERATOR 5 > (int4, int8);
ALTER OPERATOR FAMILY int8_filter_ops USING fashrec_ivf ADD
    OPERATOR 1 < (int8, int2), OPERATOR 2 <= (int8, int2), OPERATOR 3 = (int8, int2),
    OPERATOR 4 >= (int8, int2), OPERATOR 5 > (int8, int2),
    OPERATOR 1 < (int8, int4), OPERATOR 2 <= (int8, int4), OPERATOR 3 = (int8, int4),
    OPERATOR 4 >= (int8, int4), OPERATOR 5 > (int8, int4);
ALTER OPERATOR FAMILY float4_filter_ops USING fashrec_ivf ADD
    OPERATOR 1 < (float4, float8), OPERATOR 2 <= (float4, float8), OPERATOR 3 = (float4, float8),
    OPERATOR 4 >= (float4, float8), OPERATOR 5 > (float4, float8);
ALTER OPERATOR FAMILY float8_filter_ops USING fashrec_ivf ADD
    OPERATOR 1 < (float8, float4), OPERATOR 2 <= (float8, float4), OPERATOR 3 = (float8, float4),
    OPERATOR 4 >= (float8, float4), OPERATOR 5 > (float8, float4);

-- fashrec_ivf_info reports the pages of the lists' summaries of the filter columns (a filtered
-- scan skips a list whose summary rules out every row); indexes built by 0.1.0 have none until
-- REINDEX, and are scanned as before.
DROP FUNCTION fashrec_ivf_info(regclass);
CREATE FUNCTION "fashrec_ivf_info"(
	"index" regclass /* pgrx :: PgRelation */
) RETURNS TABLE (
	"lists" INT,  /* i32 */
	"dims" INT,  /* i32 */
	"metric" TEXT,  /* & '_ str */
	"rows" bigint,  /* i64 */
	"blocks" bigint,  /* i64 */
	"empty_lists" INT,  /* i32 */
	"imbalance" double precision,  /* f64 */
	"coefficient_of_variation" double precision,  /* f64 */
	"codes" bool,  /* bool */
	"code_pages" bigint,  /* i64 */
	"filter_columns" INT,  /* i32 */
	"summary_pages" bigint  /* i64 */
)
STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'fashrec_ivf_info_wrapper';
COMMENT ON FUNCTION fashrec_ivf_info(regclass) IS 'Shape of a fashrec_ivf index: lists, dims, metric, rows, blocks, empty lists, imbalance (largest list / mean) and coefficient of variation of list sizes, whether the lists have one-byte codes (scanned before the vectors) and their pages, how many filter columns the index holds after the vector, and the pages of its lists'' summaries of those columns (0 for an index built by release 0.1.0: REINDEX gives it summaries, which let filtered scans skip lists). REINDEX when imbalance grows far above 1.';

-- recommend_for_text re-ranks the index's nearest products by their keywords instead of also
-- searching the keywords on their own (sql/recommend.sql).
CREATE OR REPLACE FUNCTION recommend_for_text(query text, k int DEFAULT 10, for_gender text DEFAULT NULL,
                                   in_category text DEFAULT NULL, depth int DEFAULT 100)
RETURNS SETOF fashrec_recommendation
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    words text[];
BEGIN
    PERFORM fashrec_check_request(for_gender, k);
    IF query IS NULL THEN
        RETURN;
    END IF;
    words := tsvector_to_array(to_tsvector('english', query));
    RETURN QUERY
    SELECT c.id, c.name, c.category, c.gender, c.price, c.description,
           ((c.score
             + CASE WHEN cardinality(words) > 0
                    THEN cardinality(ARRAY(SELECT unnest(words) INTERSECT
                                           SELECT unnest(tsvector_to_array(p.keywords_tsv))))::float8
                         / cardinality(words)
                    ELSE 0 END) / 2)::float8
    FROM recommend_for_embedding(embed_text(query), least(greatest(depth, k), 1000), for_gender,
                                 in_category) WITH ORDINALITY AS c
    JOIN products p ON p.id = c.id
    ORDER BY 7 DESC, c.ordinality
    LIMIT k;
END $$;
COMMENT ON FUNCTION recommend_for_text(text, int, text, text, int) IS 'Products for a text query: the depth nearest in the product space, re-ranked by the share of the query''s words in their keywords; score = (similarity + share of words found) / 2.';
-- The query encoder became a distilled three-layer MiniLM.
COMMENT ON FUNCTION sentence_embedding(text) IS 'The query encoder''s 384-d sentence embedding (unit length; a three-layer MiniLM distilled from all-MiniLM-L6-v2), for text-to-text search; not comparable with image embeddings.';
