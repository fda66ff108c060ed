import torch

from index.retrieval.kmeans import spherical_kmeans


def test_spherical_kmeans_finds_separated_clusters_deterministically() -> None:
    g = torch.Generator().manual_seed(0)
    centres = torch.nn.functional.normalize(torch.randn(4, 16, generator=g), dim=-1)
    points = torch.cat([c + 0.05 * torch.randn(50, 16, generator=g) for c in centres])
    got = spherical_kmeans(points, k=8, iters=10, chunk=7)  # a small chunk exercises the chunked assignment
    assert got.shape == (8, 16)
    assert torch.allclose(got.norm(dim=-1), torch.ones(8), atol=1e-5)
    best = (centres @ got.T).max(-1).values  # every true centre has a centroid next to it
    assert bool((best > 0.98).all())
    assert torch.equal(got, spherical_kmeans(points, k=8, iters=10, chunk=7))


def test_more_centroids_than_points() -> None:
    assert spherical_kmeans(torch.randn(3, 8), k=5, iters=2).shape == (5, 8)
