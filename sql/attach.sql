-- A shop's own table kept embedded: fashrec_attach installs two triggers that keep its embedding
-- column equal to embed_product(image, text) (or embed_image(image) without a text column):
--   fashrec_embed_insert  AFTER INSERT, once per statement: every inserted row of an INSERT or
--                         COPY in one model run per 1,000 rows (a transition table), then one
--                         UPDATE of their embeddings;
--   fashrec_embed_update  BEFORE UPDATE OF the source columns, per row and only when a source
--                         value changed: the new embedding goes into the row being written.
-- A row whose image or text is NULL gets a NULL embedding. Their arguments (key, image, text or
-- '', embedding, on_error) are the attachment, so pg_dump and pg_restore carry it.

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
