-- The fashrec_ivf index access method and its operator classes, one per distance.
-- Named apart from pgvector's (ivfflat, hnsw) so both extensions can share a cluster.
CREATE ACCESS METHOD fashrec_ivf TYPE INDEX HANDLER fashrec_ivf_amhandler;
COMMENT ON ACCESS METHOD fashrec_ivf IS 'IVF-flat approximate nearest-neighbour index for vector: WITH (lists = N); SET fashrec_ivf.probes, fashrec_ivf.max_probes.';

CREATE OPERATOR CLASS vector_l2_ops
    DEFAULT FOR TYPE vector USING fashrec_ivf AS
    OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 l2_distance(vector, vector);

CREATE OPERATOR CLASS vector_cosine_ops
    FOR TYPE vector USING fashrec_ivf AS
    OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 cosine_distance(vector, vector);

CREATE OPERATOR CLASS vector_ip_ops
    FOR TYPE vector USING fashrec_ivf AS
    OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 vector_negative_inner_product(vector, vector);

-- Columns after the vector, for WHERE clauses the index checks itself
-- (CREATE INDEX ... USING fashrec_ivf (embedding, gender, category, price)): equality and
-- = ANY(array) on every type below, ranges on numbers. Strategy numbers as btree's.
CREATE OPERATOR CLASS int2_filter_ops
    DEFAULT FOR TYPE int2 USING fashrec_ivf AS
    OPERATOR 1 < (int2, int2), OPERATOR 2 <= (int2, int2), OPERATOR 3 = (int2, int2),
    OPERATOR 4 >= (int2, int2), OPERATOR 5 > (int2, int2);
CREATE OPERATOR CLASS int4_filter_ops
    DEFAULT FOR TYPE int4 USING fashrec_ivf AS
    OPERATOR 1 < (int4, int4), OPERATOR 2 <= (int4, int4), OPERATOR 3 = (int4, int4),
    OPERATOR 4 >= (int4, int4), OPERATOR 5 > (int4, int4);
CREATE OPERATOR CLASS int8_filter_ops
    DEFAULT FOR TYPE int8 USING fashrec_ivf AS
    OPERATOR 1 < (int8, int8), OPERATOR 2 <= (int8, int8), OPERATOR 3 = (int8, int8),
    OPERATOR 4 >= (int8, int8), OPERATOR 5 > (int8, int8);
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
CREATE OPERATOR CLASS float4_filter_ops
    DEFAULT FOR TYPE float4 USING fashrec_ivf AS
    OPERATOR 1 < (float4, float4), OPERATOR 2 <= (float4, float4), OPERATOR 3 = (float4, float4),
    OPERATOR 4 >= (float4, float4), OPERATOR 5 > (float4, float4);
CREATE OPERATOR CLASS float8_filter_ops
    DEFAULT FOR TYPE float8 USING fashrec_ivf AS
    OPERATOR 1 < (float8, float8), OPERATOR 2 <= (float8, float8), OPERATOR 3 = (float8, float8),
    OPERATOR 4 >= (float8, float8), OPERATOR 5 > (float8, float8);
ALTER OPERATOR FAMILY float4_filter_ops USING fashrec_ivf ADD
    OPERATOR 1 < (float4, float8), OPERATOR 2 <= (float4, float8), OPERATOR 3 = (float4, float8),
    OPERATOR 4 >= (float4, float8), OPERATOR 5 > (float4, float8);
ALTER OPERATOR FAMILY float8_filter_ops USING fashrec_ivf ADD
    OPERATOR 1 < (float8, float4), OPERATOR 2 <= (float8, float4), OPERATOR 3 = (float8, float4),
    OPERATOR 4 >= (float8, float4), OPERATOR 5 > (float8, float4);
CREATE OPERATOR CLASS numeric_filter_ops
    DEFAULT FOR TYPE numeric USING fashrec_ivf AS
    OPERATOR 1 < (numeric, numeric), OPERATOR 2 <= (numeric, numeric), OPERATOR 3 = (numeric, numeric),
    OPERATOR 4 >= (numeric, numeric), OPERATOR 5 > (numeric, numeric);
CREATE OPERATOR CLASS bool_filter_ops
    DEFAULT FOR TYPE bool USING fashrec_ivf AS
    OPERATOR 3 = (bool, bool);
CREATE OPERATOR CLASS text_filter_ops
    DEFAULT FOR TYPE text USING fashrec_ivf AS
    OPERATOR 3 = (text, text);

COMMENT ON FUNCTION fashrec_ivf_info(regclass) IS 'Shape of a fashrec_ivf index: lists, dims, metric, rows, blocks, empty lists, imbalance (largest list / mean) and coefficient of variation of list sizes, whether the lists have one-byte codes (scanned before the vectors) and their pages, how many filter columns the index holds after the vector, and the pages of its lists'' summaries of those columns (0 for an index built by release 0.1.0: REINDEX gives it summaries, which let filtered scans skip lists). REINDEX when imbalance grows far above 1.';
COMMENT ON FUNCTION fashrec_ivf_lists(regclass) IS 'Every list of a fashrec_ivf index with its rows, pages and code pages.';
COMMENT ON FUNCTION fashrec_ivf_check(regclass) IS 'Verifies a fashrec_ivf index: well-formed pages, every table row with a non-NULL vector indexed exactly once.';
