"""The HTTP API through FastAPI's TestClient: every endpoint, and every kind of bad input answered with a 4xx."""

import io
import json
import random

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from digitlens import METRICS_PATH, api, reading
from digitlens.api import MAX_BODY_BYTES, MAX_IMAGES, app
from servers import metric_samples
from shapes import png, written


@pytest.fixture(scope="module")
def client():
    with TestClient(app) as client:  # runs the lifespan: loads the model as a worker would
        yield client


@pytest.fixture(scope="module")
def some_images(test_set):
    images, labels = test_set
    return images[:8], labels[:8]


def png_of(image: np.ndarray, format: str = "PNG") -> bytes:
    """A test digit as a photo would have it: dark ink on white paper, four times MNIST's size."""
    picture = Image.fromarray(255 - image).resize((112, 112), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    picture.save(buffer, format=format)
    return buffer.getvalue()


def assert_rejected(response, status: int, *phrases: str) -> None:
    """A 4xx with a JSON message that names the problem."""
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    for phrase in phrases:
        assert phrase in detail


def post_pixels(client, images) -> object:
    return client.post("/predict", json={"input": images})


def valid_rows(count: int = 2) -> list:
    return [[0] * 784 for _ in range(count)]


def post_image(client, picture: bytes, number: bool = False):
    params = {"number": "true"} if number else None
    return client.post("/predict/image", files={"file": ("picture.png", picture, "image/png")}, params=params)


def test_home_describes_the_api(client):
    response = client.get("/home")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "POST /predict" in response.text
    assert "POST /predict/image?number=true" in response.text


def test_predict_returns_ten_probabilities_per_image_as_the_tutorial(client, some_images, predictor):
    images, labels = some_images
    response = post_pixels(client, images.reshape(len(images), -1).tolist())
    assert response.status_code == 200
    probabilities = response.json()
    assert isinstance(probabilities, list) and len(probabilities) == len(images)
    assert all(isinstance(row, list) and len(row) == 10 for row in probabilities)
    np.testing.assert_allclose(probabilities, predictor.predict_proba(images), atol=1e-6)
    assert (np.argmax(probabilities, axis=1) == labels).all()


def test_predict_accepts_images_as_28x28_nested_lists(client, some_images):
    images, _ = some_images
    as_rows = post_pixels(client, images.reshape(len(images), -1).tolist()).json()
    as_squares = post_pixels(client, images.tolist())
    assert as_squares.status_code == 200
    assert as_squares.json() == as_rows


def test_predict_accepts_fractional_pixel_values(client, some_images):
    images, labels = some_images
    response = post_pixels(client, (images[:2] * 0.999).tolist())
    assert response.status_code == 200
    assert np.argmax(response.json(), axis=1).tolist() == labels[:2].tolist()


def test_predict_image_reads_a_png(client, test_set):
    images, labels = test_set
    response = client.post("/predict/image", files={"file": ("digit.png", png_of(images[0]), "image/png")})
    assert response.status_code == 200
    result = response.json()
    assert result["digit"] == labels[0]
    assert result["is_digit"] is True
    assert result["confidence"] == max(result["probabilities"]) > 0.5
    assert len(result["probabilities"]) == 10
    assert np.asarray(result["image"]).shape == (28, 28)
    assert 0 <= np.min(result["image"]) < np.max(result["image"]) <= 255


def test_predict_image_reads_a_jpeg(client, test_set):
    images, labels = test_set
    response = client.post("/predict/image", files={"file": ("digit.jpg", png_of(images[1], "JPEG"), "image/jpeg")})
    assert response.status_code == 200
    assert response.json()["digit"] == labels[1]


@pytest.mark.parametrize("shape", ["*", "x"], ids=["star", "cross"])
def test_predict_image_says_a_shape_is_not_a_digit_and_still_names_the_closest(client, shape):
    response = post_image(client, png(written(shape)))
    assert response.status_code == 200
    result = response.json()
    assert result["is_digit"] is False
    assert 0 <= result["digit"] <= 9 and result["confidence"] == max(result["probabilities"])


def test_predict_image_reads_a_number_digit_by_digit(client):
    response = post_image(client, png(written("42")), number=True)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["number"] == "42"
    assert [digit["digit"] for digit in result["digits"]] == [4, 2]
    for digit in result["digits"]:
        assert digit["is_digit"] is True and digit["confidence"] == max(digit["probabilities"]) > 0.5
        assert np.asarray(digit["image"]).shape == (28, 28)


def test_predict_image_marks_what_is_not_a_digit_in_a_number(client):
    result = post_image(client, png(written("4*2")), number=True).json()
    assert result["number"] == "4?2"
    assert [digit["is_digit"] for digit in result["digits"]] == [True, False, True]


def test_predict_image_reads_a_doubtful_digit_in_a_number_but_refuses_it_alone(client, monkeypatch):
    predictor = client.app.state.predictor
    scores = predictor.digit_scores(reading.mnist_images(written("42"), number=True, predictor=predictor))
    monkeypatch.setattr(predictor, "digit_threshold", 1.01)  # no mark passes alone ...
    monkeypatch.setattr(predictor, "number_threshold", float(scores.min()) / 2)  # ... both do among a number's marks
    assert post_image(client, png(written("42")), number=True).json()["number"] == "42"
    assert post_image(client, png(written("4")), number=True).json()["number"] == "?"  # one mark: a digit alone
    assert post_image(client, png(written("4"))).json()["is_digit"] is False


def test_predict_image_reads_one_digit_as_a_one_digit_number(client, test_set):
    images, labels = test_set
    result = post_image(client, png_of(images[0]), number=True).json()
    assert result["number"] == str(labels[0]) and len(result["digits"]) == 1


def test_predict_image_rejects_a_blank_number(client):
    blank = png(np.full((60, 150), 255, np.uint8))
    assert_rejected(post_image(client, blank, number=True), 422, "no digit found")


def test_health_reports_the_loaded_model(client):
    metrics = json.loads(METRICS_PATH.read_text())
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["model_loaded"] is True
    assert health["model"] == metrics["model"]
    assert health["version"] == metrics["trained_at"]
    assert health["test_accuracy"] == metrics["test_accuracy"]


def test_openapi_documents_the_predict_body_and_errors(client):
    schema = client.get("/openapi.json").json()
    predict = schema["paths"]["/predict"]["post"]
    body = predict["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["input"]
    assert body["properties"]["input"]["maxItems"] == MAX_IMAGES
    assert {"200", "400", "413", "422"} <= set(predict["responses"])
    assert {"/home", "/predict/image", "/health"} <= set(schema["paths"])
    assert client.get("/docs").status_code == 200


def test_openapi_documents_is_digit_and_the_number_reading(client):
    schema = client.get("/openapi.json").json()
    predict_image = schema["paths"]["/predict/image"]["post"]
    assert [parameter["name"] for parameter in predict_image["parameters"]] == ["number"]
    answers = predict_image["responses"]["200"]["content"]["application/json"]["schema"]["anyOf"]
    assert {answer["$ref"].rsplit("/", 1)[-1] for answer in answers} == {"ImagePrediction", "NumberPrediction"}
    models = schema["components"]["schemas"]
    assert "not a digit" in models["ImagePrediction"]["properties"]["is_digit"]["description"]
    assert '"?"' in models["NumberPrediction"]["properties"]["number"]["description"]


def test_predict_rejects_invalid_json(client):
    response = client.post("/predict", content=b'{"input": [[0, 0,', headers={"content-type": "application/json"})
    assert_rejected(response, 400, "not valid JSON", '{"input": [[784 pixel values 0-255], ...]}')


def test_predict_rejects_missing_input(client):
    assert_rejected(client.post("/predict", json={"images": valid_rows()}), 422, "missing", "'input'")


def test_predict_rejects_a_body_that_is_not_an_object(client):
    assert_rejected(client.post("/predict", json=valid_rows()), 422, "'input'", "expected a JSON object")


def test_predict_rejects_wrong_length(client):
    rows = valid_rows(3)
    rows[2] = rows[2][:783]
    assert_rejected(post_pixels(client, rows), 422, "expected 784 pixel values per image, got 783 in image 2")


def test_predict_rejects_wrong_length_for_every_image(client):
    assert_rejected(post_pixels(client, [[0] * 785] * 2), 422, "expected 784 pixel values per image, got 785")


def test_predict_rejects_a_28x28_image_with_a_short_row(client):
    image = [[0] * 28 for _ in range(28)]
    image[5] = [0] * 27
    assert_rejected(post_pixels(client, [image]), 422, "expected 28 pixel values per row, got 27 values in row 5")


def test_predict_rejects_an_image_with_too_few_rows(client):
    assert_rejected(post_pixels(client, [[[0] * 28] * 27]), 422, "expected 28 rows", "got 27 rows")


def test_predict_rejects_a_flat_list_of_numbers(client):
    assert_rejected(post_pixels(client, [0] * 784), 422, "image 0 is 0, not a list")


def test_predict_rejects_non_numbers(client):
    rows = valid_rows()
    rows[1][400] = "a"
    assert_rejected(post_pixels(client, rows), 422, "expected pixel values as numbers 0-255, got \"a\"")


def test_predict_rejects_null_pixels(client):
    rows = valid_rows()
    rows[0][0] = None
    assert_rejected(post_pixels(client, rows), 422, "got null")


def test_predict_rejects_nan(client):
    body = '{"input": [[NaN' + ", 0" * 783 + "]]}"
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert_rejected(response, 422, "expected finite pixel values, got NaN")


def test_predict_rejects_values_below_0(client):
    rows = valid_rows()
    rows[0][10] = -1
    assert_rejected(post_pixels(client, rows), 422, "expected pixel values from 0 to 255, got values from -1")


def test_predict_rejects_values_above_255(client):
    rows = valid_rows()
    rows[1][10] = 256
    assert_rejected(post_pixels(client, rows), 422, "expected pixel values from 0 to 255", "to 256")


def test_predict_rejects_an_empty_list(client):
    assert_rejected(post_pixels(client, []), 422, "expected at least one image", "empty list")


def test_predict_rejects_more_than_10000_images(client):
    assert_rejected(post_pixels(client, [[0]] * (MAX_IMAGES + 1)), 413, "at most 10,000", "got 10,001")


@pytest.mark.parametrize("image", [[0] * 784, [[0] * 28] * 28], ids=["flat", "28x28"])
def test_predict_refuses_a_large_body_of_too_many_images_with_their_exact_count(client, image):
    """A body over a megabyte is counted between its images' brackets, not parsed: the count said is exact in both shapes."""
    assert_rejected(post_pixels(client, [image] * (MAX_IMAGES + 2)), 413, "at most 10,000", "got 10,002")


def test_predict_rejects_a_body_over_the_size_limit(client):
    response = client.post("/predict", content=b" " * (MAX_BODY_BYTES + 1), headers={"content-type": "application/json"})
    assert_rejected(response, 413, "request body too large", f"at most {MAX_BODY_BYTES:,} bytes")


def test_predict_rejects_a_streamed_body_over_the_size_limit(client):
    chunk = b" " * (1 << 20)
    chunks = (chunk for _ in range(MAX_BODY_BYTES // len(chunk) + 1))  # no Content-Length: counted as it arrives
    response = client.post("/predict", content=chunks, headers={"content-type": "application/json"})
    assert_rejected(response, 413, "request body too large")


def test_predict_rejects_deeply_nested_json(client):
    body = "[" * 100_000 + "]" * 100_000
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert_rejected(response, 400, "not valid JSON")


def test_predict_image_rejects_a_file_that_is_not_an_image(client):
    response = client.post("/predict/image", files={"file": ("notes.txt", b"not a picture", "text/plain")})
    assert_rejected(response, 422, "notes.txt: not a readable image: not a format we know (PNG, JPEG")


def test_predict_image_rejects_an_image_with_no_digit(client):
    blank = io.BytesIO()
    Image.new("L", (64, 64), 255).save(blank, format="PNG")
    response = client.post("/predict/image", files={"file": ("blank.png", blank.getvalue(), "image/png")})
    assert_rejected(response, 422, "no digit found")


def test_predict_image_rejects_a_request_without_a_file(client):
    assert_rejected(client.post("/predict/image", data={"other": "x"}), 422, "file", "expected a multipart/form-data")


def test_predict_image_rejects_an_upload_over_the_size_limit(client):
    response = client.post("/predict/image", files={"file": ("huge.png", b"\0" * (MAX_BODY_BYTES + 1), "image/png")})
    assert_rejected(response, 413, "request body too large")


def test_predict_answers_mangled_bodies_with_4xx_never_500(client):
    """Random byte flips and truncations of a valid body (fixed seed): each answer is 200 or a 4xx that explains."""
    rng = random.Random(0)
    valid = json.dumps({"input": [[rng.randint(0, 255) for _ in range(784)] for _ in range(2)]}).encode()
    for attempt in range(600):
        body = bytearray(valid[: rng.randrange(len(valid))] if attempt % 2 else valid)
        for _ in range(rng.randint(1, 4)):
            body[rng.randrange(len(body))] = rng.choice(b'[]{},:0123456789.-eE"nNaI \x00')
        response = client.post("/predict", content=bytes(body), headers={"content-type": "application/json"})
        assert response.status_code == 200 or (400 <= response.status_code < 500 and "expected" in response.json()["detail"])


def test_integer_rows_are_packed_by_the_fast_path_exactly(test_set):
    images, _ = test_set
    rows = images[:3].reshape(3, -1)
    packed = api.byte_pixels(rows.tolist())
    assert packed.dtype == np.uint8 and np.array_equal(packed, rows)


@pytest.mark.parametrize(
    "image",
    [[0.5] * 784, [256] * 784, [-1] * 784, [[0] * 28] * 28, [0] * 783, 784, ["0"] * 784],
    ids=["float", "above 255", "negative", "28x28 rows", "short", "a number", "strings"],
)
def test_anything_but_flat_byte_rows_leaves_the_fast_path(image):
    assert api.byte_pixels([image]) is None


def scraped(client) -> dict[tuple, float]:
    """GET /metrics, answered as Prometheus's text format and parsed (servers.metric_samples)."""
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return metric_samples(response.text)


def test_metrics_count_requests_errors_answers_and_refusals_in_prometheus_format(client, test_set):
    images, labels = test_set
    before = scraped(client)
    sevens = images[labels == 7][:3].reshape(3, -1).tolist()
    assert client.post("/predict", json={"input": sevens}).status_code == 200
    assert client.post("/predict", json={"input": [[1, 2]]}).status_code == 422
    assert client.get("/wp-login.php").status_code == 404
    star = png(written("*"))
    assert client.post("/predict/image", files={"file": ("star.png", star, "image/png")}).json()["is_digit"] is False
    after = scraped(client)
    grew = lambda *key: after.get(key, 0) - before.get(key, 0)  # noqa: E731
    assert grew("digitlens_requests_total", ("endpoint", "/predict"), ("status", "200")) == 1
    assert grew("digitlens_requests_total", ("endpoint", "/predict"), ("status", "422")) == 1
    assert grew("digitlens_requests_total", ("endpoint", "other"), ("status", "404")) == 1  # no label per scanned path
    assert grew("digitlens_request_seconds_count", ("endpoint", "/predict")) == 2
    assert grew("digitlens_answers_total", ("digit", "7")) >= 3
    assert grew("digitlens_not_a_digit_total") == 1
    model = [key for key, value in after.items() if key[0] == "digitlens_model_info" and value == 1]
    assert model and ("model", "mnist_cnn.keras") in model[0]


def test_the_api_serves_unlogged_when_the_log_database_cannot_be_opened(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITLENS_DATABASE_URL", f"sqlite:///{tmp_path / 'no such folder' / 'log.db'}")
    with TestClient(app) as unlogged:
        assert unlogged.get("/health").json()["prediction_log"] is False
        assert unlogged.post("/predict", json={"input": [[0] * 784]}).status_code == 200
