"""Retrieval metrics: exact cosine search of queries against a gallery, scored by category.

For each query the gallery is ranked by cosine similarity (the vectors are L2-normalised, so this
is the same order as L2 distance). A result is relevant when its category equals the query's.
- hit@k: some result among the first k is relevant (the seed's "top-k accuracy").
- precision@k: the fraction of the first k results that are relevant.
- MRR: the mean of 1 / (rank of the first relevant result), 0 when none is in the first 100.
"""

from __future__ import annotations

import numpy as np

KS = (1, 3, 5, 7, 9, 10)
MRR_DEPTH = 100


def ranked_labels(queries: np.ndarray, gallery: np.ndarray, gallery_labels: np.ndarray,
                  depth: int = MRR_DEPTH, chunk: int = 1000) -> np.ndarray:
    """(n_queries, depth) gallery labels in order of decreasing cosine similarity."""
    q = np.ascontiguousarray(queries, dtype=np.float32)
    g = np.ascontiguousarray(gallery, dtype=np.float32)
    out = np.empty((len(q), depth), dtype=gallery_labels.dtype)
    for s in range(0, len(q), chunk):
        sims = q[s:s + chunk] @ g.T
        part = np.argpartition(-sims, depth - 1, axis=1)[:, :depth]
        order = np.take_along_axis(sims, part, axis=1).argsort(axis=1)[:, ::-1]
        out[s:s + chunk] = gallery_labels[np.take_along_axis(part, order, axis=1)]
    return out


def retrieval_metrics(ranked: np.ndarray, query_labels: np.ndarray) -> dict:
    rel = ranked == query_labels[:, None]
    first = np.where(rel.any(axis=1), rel.argmax(axis=1) + 1, 0)
    res = {"queries": int(len(query_labels))}
    for k in KS:
        res[f"hit@{k}"] = float(rel[:, :k].any(axis=1).mean())
        res[f"precision@{k}"] = float(rel[:, :k].mean())
    res["mrr"] = float(np.where(first > 0, 1.0 / np.maximum(first, 1), 0.0).mean())
    return res


def per_category(ranked: np.ndarray, query_labels: np.ndarray, k: int = 1, n: int = 10) -> list[float]:
    rel = (ranked[:, :k] == query_labels[:, None]).mean(axis=1)
    return [float(rel[query_labels == c].mean()) if (query_labels == c).any() else float("nan")
            for c in range(n)]
