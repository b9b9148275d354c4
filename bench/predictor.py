"""How fast is the predictor? One image and the whole test set, against Keras `model.predict` in the same run;
and a few images (a drawing read in its views, a number's digits), one at a time against one padded chunk.

Targets on a 2-core CPU: one image at most 1 ms (median), all 10,000 test images at most 1 s.
Run: python bench/predictor.py
"""

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digitlens import data, model, reading  # noqa: E402
from digitlens.model import Predictor  # noqa: E402

SINGLE_CALLS = 1000
BASELINE_SINGLE_CALLS = 50
WHOLE_SET_REPEATS = 5
SMALL_BATCH_CALLS = 200
SMALL_BATCHES = (len(reading.views(np.zeros((1, 28, 28)))), 16, model.SMALL_BATCH - 1)  # a drawing's views, ..., the largest run image by image


def median_seconds(call, repeats: int) -> float:
    call()  # warm-up: first calls build kernels and caches
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    images, _ = data.load("test")
    predictor = Predictor.load()
    keras_model = predictor.keras_model

    ours_single = median_seconds(lambda: predictor.predict_proba(images[0]), SINGLE_CALLS)
    ours_all = median_seconds(lambda: predictor.predict_proba(images), WHOLE_SET_REPEATS)
    keras_single = median_seconds(lambda: keras_model.predict(images[:1], verbose=0), BASELINE_SINGLE_CALLS)
    keras_all = median_seconds(lambda: keras_model.predict(images, batch_size=1000, verbose=0), WHOLE_SET_REPEATS)

    print(f"{'':28}{'digitlens Predictor':>22}{'keras model.predict':>22}{'speed-up':>10}")
    print(f"{'one image, median':28}{ours_single * 1e3:>19.3f} ms{keras_single * 1e3:>19.3f} ms{keras_single / ours_single:>9.0f}x")
    print(f"{'10,000 test images, median':28}{ours_all:>20.3f} s{keras_all:>20.3f} s{keras_all / ours_all:>9.1f}x")
    print(f"targets: one image <= 1 ms: {'met' if ours_single <= 1e-3 else 'MISSED'}; "
          f"10,000 images <= 1 s: {'met' if ours_all <= 1 else 'MISSED'}")

    print(f"\n{'':28}{'one at a time':>22}{'one padded chunk':>22}{'speed-up':>10}")
    for count in SMALL_BATCHES:
        by_image = median_seconds(lambda: predictor.outputs(images[:count]), SMALL_BATCH_CALLS)
        model.SMALL_BATCH, small_batch = 1, model.SMALL_BATCH  # every batch through a chunk of BATCH_CHUNK
        chunked = median_seconds(lambda: predictor.outputs(images[:count]), SMALL_BATCH_CALLS)
        model.SMALL_BATCH = small_batch
        print(f"{f'{count} images, median':28}{by_image * 1e3:>19.3f} ms{chunked * 1e3:>19.3f} ms{chunked / by_image:>9.1f}x")


if __name__ == "__main__":
    main()
