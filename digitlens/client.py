"""Predictions from a running digitlens API, behind the same `predict_proba` as the in-process `Predictor`.

Standard library only (urllib), so using a remote model adds no dependency.
"""

import json
import urllib.error
import urllib.request
from functools import cached_property
from pathlib import Path

import numpy as np

from digitlens import MODEL_PATH, NUM_CLASSES, NUM_PIXELS
from digitlens.model import as_batch, load_keras

REQUEST_IMAGES = 1_000  # images per request: well under the API's limits, small enough to stream quickly


class RemotePredictor:
    """Probabilities from `POST {url}/predict`; checks images locally first, so mistakes fail before the network.

    What HTTP does not carry, the layers behind saliency and embeddings, comes from the local model file.
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

    @cached_property
    def keras_model(self):
        """The local Keras model, loaded on first use, for layer-level views the API does not serve."""
        return load_keras(self.keras_path)

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
