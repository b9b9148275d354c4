"""How fast are the nearest neighbours? The 8 images nearest a test image among all 70,000, warm.

Baseline in the same run: the plain way, every distance as the norm of a difference, then a full sort.
Target on a 2-core CPU: at most 50 ms per query, warm (the embeddings computed once per model and cached).
Run: python bench/neighbours.py
"""

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digitlens import analysis, data  # noqa: E402
from digitlens.model import Predictor  # noqa: E402

QUERIES = 200
COUNT = 8


def main() -> None:
    predictor = Predictor.load()
    parts = []
    for split in ("train", "test"):
        images, labels = data.load(split)
        started = time.perf_counter()
        embeddings = analysis.cached_embeddings(predictor, images, split)
        print(f"{split} embeddings {embeddings.shape}: {time.perf_counter() - started:.1f} s (cached on disk after the first run)")
        parts.append((embeddings, np.full(len(labels), split), np.arange(len(labels)), labels))
    index = analysis.NeighbourIndex(*(np.concatenate(column) for column in zip(*parts)))
    queries = index.embeddings[-10_000:][np.random.default_rng(0).choice(10_000, QUERIES, replace=False)]

    def timed(search) -> float:
        timings = []
        for query in queries:
            started = time.perf_counter()
            search(query)
            timings.append(time.perf_counter() - started)
        return statistics.median(timings) * 1000

    ours = timed(lambda query: index.nearest(query, COUNT))
    plain = timed(lambda query: np.argsort(np.linalg.norm(index.embeddings - query, axis=1))[:COUNT])
    print(f"{COUNT} nearest among {len(index.ids):,}, median per query: {ours:.1f} ms (target <= 50 ms); plain norm + sort: {plain:.1f} ms ({plain / ours:.1f}x slower)")


if __name__ == "__main__":
    main()
