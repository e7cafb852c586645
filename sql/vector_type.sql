-- The vector type, completing the shell created first so the I/O functions could name it.
-- Storage and alignment match pgvector's, so the binary layout is the same.
CREATE TYPE vector (
    INPUT = vector_in,
    OUTPUT = vector_out,
    TYPMOD_IN = vector_typmod_in,
    RECEIVE = vector_recv,
    SEND = vector_send,
    STORAGE = external
);

COMMENT ON TYPE vector IS 'A vector of float4, written [1,2,3]; vector(n) fixes the dimensions (1 to 16000). Compatible with pgvector clients.';
