"""Memory-bounded k-means for PLAID's centroids on CPU.

RAGatouille replaces colbert-ai's FAISS k-means with ``fast_pytorch_kmeans``, which on CPU builds the
whole points x centroids distance matrix at once: for one docs version (~260k token vectors, 8,192
centroids) that is over 17 GB and the process is killed. This is the same spherical k-means (the
vectors are unit length, as ColBERT's are) with the assignment step done in chunks: under 1 GB.
"""

from __future__ import annotations

from typing import Any


def spherical_kmeans(x: Any, k: int, iters: int, seed: int = 123, chunk: int = 8192) -> Any:
    """Centroids [k, dim] (unit length) of unit vectors ``x`` [n, dim]; deterministic for a seed."""
    import torch

    x = torch.nn.functional.normalize(x.float(), dim=-1)
    n = x.shape[0]
    g = torch.Generator().manual_seed(seed)
    centroids = x[torch.randperm(n, generator=g)[: min(k, n)]].clone()
    if centroids.shape[0] < k:  # fewer points than centroids: repeat some (PLAID only needs k rows)
        extra = x[torch.randint(0, n, (k - centroids.shape[0],), generator=g)]
        centroids = torch.cat([centroids, extra])
    for _ in range(iters):
        assign = torch.empty(n, dtype=torch.long)
        for start in range(0, n, chunk):
            assign[start : start + chunk] = (x[start : start + chunk] @ centroids.T).argmax(-1)
        sums = torch.zeros_like(centroids).index_add_(0, assign, x)
        counts = torch.bincount(assign, minlength=k)
        moved = counts > 0  # an empty cluster keeps its centroid
        centroids[moved] = torch.nn.functional.normalize(sums[moved], dim=-1)
    return centroids


def train_kmeans(indexer: Any, sample: Any, shared_lists: Any) -> Any:
    """Drop-in for colbert-ai's ``CollectionIndexer._train_kmeans`` (the signature RAGatouille patches in)."""
    return spherical_kmeans(sample, indexer.num_partitions, indexer.config.kmeans_niters).float()
