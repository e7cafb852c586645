//! Inside a backend every thread must be one the extension started with signals blocked, so
//! tokenizing a batch may not start a thread pool of its own (the tokenizers crate's
//! `encode_batch` starts rayon's). Alone in its file: a test running beside it could start or
//! end threads while it counts.

use fashrec_embed::TextTokenizer;
use std::path::PathBuf;

/// Threads of this process, from /proc (Linux).
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or_else(|e| panic!("/proc/self/task: {e}"))
}

#[test]
fn tokenizes_a_batch_without_new_threads() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/tokenizer.json");
    let tok = TextTokenizer::load(&path, 256).unwrap_or_else(|e| panic!("{e}"));
    let texts: Vec<String> = (0..64)
        .map(|i| format!("black canvas shoes, size {i}"))
        .collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let before = threads();
    let tokens = tok.encode(&texts).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(tokens.ids.nrows(), texts.len());
    assert_eq!(threads(), before, "tokenizing started threads");
}
