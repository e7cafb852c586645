//! The tokenizer gives the token ids that Python's tokenizers (used in training) gives.

use fashrec_embed::TextTokenizer;
use std::path::PathBuf;

/// tokenizer.json of all-MiniLM-L6-v2 as the models directory ships it.
fn tokenizer_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/tokenizer.json")
}

#[test]
fn tokenizes_like_minilm() {
    let path = tokenizer_file();
    if !path.exists() {
        panic!("{} is missing: the models issue ships it", path.display());
    }
    let tok = TextTokenizer::load(&path, 256).expect("loads");
    let t = tok.encode(&["black canvas shoes", "a"]).expect("encodes");
    // [CLS] black canvas shoes [SEP], and [CLS] a [SEP] padded with 0.
    assert_eq!(t.ids.row(0).to_vec(), [101, 2304, 10683, 6007, 102]);
    assert_eq!(t.ids.row(1).to_vec(), [101, 1037, 102, 0, 0]);
    assert_eq!(t.mask.row(1).to_vec(), [1, 1, 1, 0, 0]);
    let long = "word ".repeat(1000);
    assert_eq!(tok.encode(&[&long]).expect("encodes").ids.ncols(), 256);
}
