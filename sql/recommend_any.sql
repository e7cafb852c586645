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
