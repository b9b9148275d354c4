"""Predictions from a running digitlens API, behind the same methods as the in-process `Predictor`.

Standard library only (urllib), so using a remote model adds no dependency.
"""

import json
import urllib.error
import urllib.request
from functools import cached_property
from pathlib import Path

import numpy as np

from digitlens import MODEL_PATH, NUM_CLASSES, NUM_PIXELS
from digitlens.model import Predictor, as_batch

REQUEST_IMAGES = 1_000  # images per request: well under the API's limits, small enough to stream quickly


class RemotePredictor:
    """Probabilities from `POST {url}/predict`; checks images locally first, so mistakes fail before the network.

    What the tutorial's /predict does not carry comes from the local model file: the digit scores (is it a
    digit at all?) with their threshold, and the layers behind saliency and embeddings. They describe the
    API's model only while that file is the one the API serves.
    """

    def __init__(self, url: str, timeout: float = 30.0, keras_path: Path | str = MODEL_PATH):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.keras_path = Path(keras_path)

    def predict_proba(self, images) -> np.ndarray:
        """Float32 (N, 10) probabilities for pixels 0-255; ValueError on bad images, ConnectionError if unreachable."""
        batch = as_batch(images).reshape(-1, NUM_PIXELS)
        parts = [self._post_rows(batch[start : start + REQUEST_IMAGES]) for start in range(0, len(batch), REQUEST_IMAGES)]
        return np.concatenate(parts)

    def predict(self, images) -> np.ndarray:
        """The most probable digit of each image."""
        return self.predict_proba(images).argmax(axis=1)

    def digit_scores(self, images) -> np.ndarray:
        """Float32 (N,) from 0 to 1, how much each image looks like a digit: from the local model file."""
        return self.local.digit_scores(images)

    def is_digit(self, images) -> np.ndarray:
        """Bool (N,): False for what the local model takes for a letter, a scribble or a doodle."""
        return self.local.is_digit(images)

    def outputs(self, images) -> tuple[np.ndarray, np.ndarray]:
        """The API's probabilities (N, 10) and the local model's digit scores (N,)."""
        return self.predict_proba(images), self.digit_scores(images)

    @property
    def digit_threshold(self) -> float:
        return self.local.digit_threshold

    @property
    def number_threshold(self) -> float:
        return self.local.number_threshold

    @cached_property
    def local(self) -> Predictor:
        """The local model's fast predictor, loaded on first use, for the digit scores the API does not send."""
        return Predictor.load(self.keras_path)

    @property
    def keras_model(self):
        """The local Keras model, loaded on first use, for layer-level views the API does not serve."""
        return self.local.keras_model

    def health(self) -> dict:
        """The API's /health answer: whether its model is loaded, which one, its test accuracy."""
        return self._call(urllib.request.Request(f"{self.url}/health"))

    def _post_rows(self, rows: np.ndarray) -> np.ndarray:
        pixels = rows.astype(np.int64) if np.array_equal(rows, rows.round()) else rows  # integers: about half the bytes
        body = json.dumps({"input": pixels.tolist()}, separators=(",", ":")).encode()
        request = urllib.request.Request(
            f"{self.url}/predict", data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        probabilities = np.asarray(self._call(request), dtype=np.float32)
        if probabilities.shape != (len(rows), NUM_CLASSES):
            raise RuntimeError(
                f"{self.url}/predict answered shape {probabilities.shape}, expected ({len(rows)}, {NUM_CLASSES})"
            )
        return probabilities

    def _call(self, request: urllib.request.Request):
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")
            problem = ValueError if 400 <= error.code < 500 else RuntimeError
            raise problem(f"{request.full_url} answered {error.code}: {detail}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            raise ConnectionError(
                f"cannot reach the digitlens API at {self.url} ({reason}); "
                "start it with `python -m digitlens serve` or unset DIGITLENS_API_URL"
            ) from None
