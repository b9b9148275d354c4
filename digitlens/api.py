"""The HTTP prediction API: the tutorial's /home and /predict contract, an image upload, a health check, OpenAPI docs.

`POST /predict` parses its body itself (orjson, then integer rows packed by bytes()): 5 ms for the
tutorial's 500 images where Pydantic validation took 26 ms. Its schema is still documented from `PredictRequest`.
Run it with `python -m digitlens serve`.
"""

import asyncio
import json
import logging
import os
import re
import time
from contextlib import asynccontextmanager
from typing import Annotated

import numpy as np
import orjson
from fastapi import FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from digitlens import IMAGE_SIDE, MAX_PIXEL, MODEL_ENV, NUM_CLASSES, NUM_PIXELS, prediction_log, reading, telemetry
from digitlens.model import Predictor, metrics_card
from digitlens.prediction_log import PredictionLog
from digitlens.store import DATABASE_ENV, Store
from digitlens.preprocess import IMAGE_FORMATS, read_image

MAX_IMAGES = 10_000
MAX_BODY_BYTES = 64 * 1024 * 1024  # 10,000 images of 784 values written "255.0," need ~47 MB
PIECE_BYTES = 1 << 20  # a larger /predict body is parsed in pieces of about this size
INPUT_START = re.compile(rb'\s*\{\s*"input"\s*:\s*\[')
INPUT_END = re.compile(rb"\]\s*\}\s*$")
SQUARE_START = re.compile(rb"\s*\[\s*\[")  # an image of 28 rows
FLAT_BOUNDARY = re.compile(rb"\]\s*,\s*\[")  # between two images of 784 values
SQUARE_BOUNDARY = re.compile(rb"\]\s*\]\s*,\s*\[\s*\[")  # between two images of 28 rows
BODY_TIMEOUT = 10  # seconds the body may stall before the request is refused (408)
EXPECTED_BODY = '{"input": [[784 pixel values 0-255], ...]} or {"input": [[28 rows of 28 values], ...]}'
HOME_TEXT = f"""digitlens: an MNIST digit classifier.
POST /predict with {EXPECTED_BODY} for {NUM_CLASSES} probabilities per image.
POST /predict/image with a picture ({IMAGE_FORMATS}; multipart field "file") for the digit in it and whether it is a digit at all.
POST /predict/image?number=true for the number written in it, digit by digit ("{reading.NOT_A_DIGIT}" where a mark is not a digit).
GET /health for the model in use; GET /metrics for operators (Prometheus); GET /docs for the full contract.
"""


Pixel = Annotated[float, Field(ge=0, le=MAX_PIXEL)]
Row = Annotated[list[Pixel], Field(min_length=IMAGE_SIDE, max_length=IMAGE_SIDE)]
FlatImage = Annotated[list[Pixel], Field(min_length=NUM_PIXELS, max_length=NUM_PIXELS)]
SquareImage = Annotated[list[Row], Field(min_length=IMAGE_SIDE, max_length=IMAGE_SIDE)]
Probabilities = Annotated[list[float], Field(min_length=NUM_CLASSES, max_length=NUM_CLASSES)]


class PredictRequest(BaseModel):
    """The tutorial's body, documented here; /predict checks it by hand, faster, with the same rules."""

    input: list[FlatImage | SquareImage] = Field(
        min_length=1,
        max_length=MAX_IMAGES,
        description=f"Images as {NUM_PIXELS} pixel values (the tutorial's rows) or {IMAGE_SIDE} rows of {IMAGE_SIDE}",
        examples=[[[0] * NUM_PIXELS]],
    )


class ImagePrediction(BaseModel):
    digit: int = Field(description="the most probable digit (only the closest one when is_digit is false)")
    confidence: float = Field(description="its probability")
    probabilities: Probabilities = Field(description=f"all {NUM_CLASSES} probabilities, digit 0 first")
    image: list[list[int]] = Field(description=f"the {IMAGE_SIDE}x{IMAGE_SIDE} input (0-{MAX_PIXEL}) the model saw")
    is_digit: bool = Field(description="false when the model takes the image for a letter, a scribble or a doodle, not a digit")


class NumberPrediction(BaseModel):
    number: str = Field(
        description=f'the digits read left to right, "{reading.NOT_A_DIGIT}" for a mark that is not a digit', examples=["42"]
    )
    digits: list[ImagePrediction] = Field(description="each digit of the number, left to right")


class Health(BaseModel):
    status: str
    model_loaded: bool
    model: str | None = Field(description="file name of the served model")
    version: str | None = Field(description="when the served model was trained (its version)")
    test_accuracy: float | None = Field(description="accuracy on the 10,000 MNIST test images")
    prediction_log: bool = Field(description="whether predictions served are being logged (DIGITLENS_LOG_PREDICTIONS)")


class ErrorMessage(BaseModel):
    detail: str = Field(description="what was wrong and what is expected")


ERRORS = {status: {"model": ErrorMessage} for status in (400, 408, 413, 422)}


@asynccontextmanager
async def lifespan(app: FastAPI):
    """Load the model once per worker process, before the first request: the committed one, or MODEL_ENV's."""
    app.state.predictor = Predictor.load(os.environ.get(MODEL_ENV))
    app.state.metrics = metrics_card(app.state.predictor.keras_path)  # {} when missing or unreadable: fewer facts
    telemetry.MODEL.labels(app.state.metrics.get("model", "unknown"), app.state.metrics.get("trained_at", "unknown")).set(1)
    app.state.log = open_log() if prediction_log.enabled() else None
    yield
    if app.state.log is not None:
        app.state.log.close()  # what is queued reaches the database before the worker exits


def open_log() -> PredictionLog | None:
    """The prediction log, or None when its database cannot be opened: then the API serves, unlogged, and says why."""
    try:
        return PredictionLog(Store())
    except Exception:
        logging.getLogger(__name__).exception("serving WITHOUT the prediction log: its database (%s) cannot be opened", DATABASE_ENV)
        return None


class BodyLimits:
    """413 for bodies over the size limit, whether declared (Content-Length) or streamed, without reading them
    whole; 408 when the body stops arriving for BODY_TIMEOUT seconds (a slow client holds no worker for long)."""

    def __init__(self, app, max_bytes: int = MAX_BODY_BYTES, timeout: float = BODY_TIMEOUT):
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return await self.refuse(413, self.too_large, scope, receive, send)
        received, problem = 0, None

        async def receive_within_limits():
            nonlocal received, problem
            try:
                message = await asyncio.wait_for(receive(), self.timeout)
            except TimeoutError:
                problem = 408, f"request body too slow: nothing arrived for {self.timeout:g} s"
                raise BodyProblem from None
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                problem = 413, self.too_large
                raise BodyProblem
            return message

        async def send_unless_refused(message):
            if problem is None:
                await send(message)

        try:
            await self.app(scope, receive_within_limits, send_unless_refused)
        except Exception:
            if problem is None:
                raise
        if problem is not None:
            await self.refuse(*problem, scope, receive, send)

    @property
    def too_large(self) -> str:
        return f"request body too large: expected at most {self.max_bytes:,} bytes ({MAX_IMAGES:,} images)"

    async def refuse(self, status: int, detail: str, scope, receive, send):
        await JSONResponse({"detail": detail}, status_code=status, headers={"connection": "close"})(scope, receive, send)


class Measured:
    """Every request counted by endpoint and status and timed (digitlens.telemetry), the 408s and 413s of BodyLimits too."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), 500  # a response never started is a server error

        async def send_noting_status(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            name = telemetry.endpoint(scope["path"])
            telemetry.REQUESTS.labels(name, str(status)).inc()
            telemetry.LATENCY.labels(name).observe(time.perf_counter() - started)


class BodyProblem(Exception):
    """Raised inside the app when the body passes the size limit or stalls; BodyLimits answers 413 or 408."""


app = FastAPI(
    title="digitlens",
    summary="Probabilities of the ten digits for MNIST-style images.",
    description=HOME_TEXT,
    lifespan=lifespan,
)
app.add_middleware(BodyLimits)
app.add_middleware(Measured)  # added last, so outermost: it sees BodyLimits' refusals


@app.exception_handler(RequestValidationError)
async def validation_error(request: Request, error: RequestValidationError):
    """FastAPI's own checks (the upload form) answer with one readable sentence, like ours."""
    problems = "; ".join(f"{'.'.join(map(str, problem['loc'][1:]))}: {problem['msg']}" for problem in error.errors())
    detail = f"{problems}; expected a multipart/form-data upload with a picture ({IMAGE_FORMATS}) in the field 'file'"
    return JSONResponse({"detail": detail}, status_code=422)


@app.get("/home", response_class=PlainTextResponse)
def home() -> str:
    """What this API is and how to call it, as the tutorial's /home."""
    return HOME_TEXT


@app.post(
    "/predict",
    response_model=list[Probabilities],
    responses=ERRORS,
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": PredictRequest.model_json_schema()}}}
    },
)
async def predict(request: Request) -> Response:
    """Ten probabilities per image, digit 0 first, in the order the images were sent (the tutorial's contract).

    Parsing and inference run in a worker thread: 10,000 images take ~1 s, and the event loop stays free for
    other requests and health checks meanwhile.
    """
    started = time.perf_counter()
    body = await request.body()
    return await run_in_threadpool(probabilities_response, body, request.app.state, started)


def probabilities_response(body: bytes, state, started: float) -> Response:
    images = parse_images(body)
    try:
        probabilities = state.predictor.predict_proba(images)
    except ValueError as error:  # NaN, infinity, or values outside 0-255
        raise HTTPException(422, str(error)) from None
    body = orjson.dumps(probabilities, option=orjson.OPT_SERIALIZE_NUMPY)
    if state.log is not None:
        # no not-a-digit verdict: the tutorial's answer needs none, and it would add 4 ms to 500 images; the
        # Monitoring page gives one from the logged input, by the same model
        state.log.record("api", state.predictor.fingerprint, images, probabilities, None, time.perf_counter() - started)
    # counted after the response has gone, off the request's path
    return Response(body, media_type="application/json", background=BackgroundTask(telemetry.count_answers, probabilities))


@app.post("/predict/image", response_model=ImagePrediction | NumberPrediction, responses=ERRORS)
def predict_image(
    request: Request,
    file: UploadFile = File(description=f"a picture ({IMAGE_FORMATS}) of one digit, or of a number with number=true"),
    number: bool = Query(False, description="read the picture as a number: answer a NumberPrediction"),
) -> ImagePrediction | NumberPrediction:
    """The digit in an uploaded picture (ImagePrediction), or with number=true the number (NumberPrediction).

    The picture is brought to MNIST's form first; each digit comes with the 28x28 image the model saw and whether
    it looks like a digit at all.
    """
    started = time.perf_counter()
    try:
        images = reading.mnist_images(read_image(file.file.read(), file.filename), number, request.app.state.predictor)
    except ValueError as error:  # not an image, or no digit in it; both messages say what is expected
        raise HTTPException(422, str(error)) from None
    found = reading.read(request.app.state.predictor, images, number)
    if request.app.state.log is not None:
        request.app.state.log.record("api_image", request.app.state.predictor.fingerprint, found.images, found.probabilities, found.is_digit, time.perf_counter() - started)
    telemetry.count_answers(found.probabilities)
    telemetry.REFUSED.inc(int((~found.is_digit).sum()))
    digits = [
        ImagePrediction(
            digit=int(digit),
            confidence=float(confidence),
            probabilities=probabilities.tolist(),
            image=image.tolist(),
            is_digit=bool(is_digit),
        )
        for digit, confidence, probabilities, image, is_digit in zip(
            found.digits, found.confidences, found.probabilities, found.images, found.is_digit
        )
    ]
    return NumberPrediction(number=found.number, digits=digits) if number else digits[0]


@app.get("/health", response_model=Health)
async def health(request: Request) -> Health:
    """Whether the model is loaded, which one, and how good it is: for load balancers and people."""
    metrics = getattr(request.app.state, "metrics", {})
    return Health(
        status="ok",
        model_loaded=getattr(request.app.state, "predictor", None) is not None,
        model=metrics.get("model"),
        version=metrics.get("trained_at"),
        test_accuracy=metrics.get("test_accuracy"),
        prediction_log=getattr(request.app.state, "log", None) is not None,
    )


@app.get("/metrics", response_class=PlainTextResponse)
def metrics() -> Response:
    """Requests and errors by endpoint and status, latency, answers by digit, refusals and the model served, in
    Prometheus's text format, for all worker processes."""
    body, content_type = telemetry.exposition()
    return Response(body, media_type=content_type)


def parse_images(body: bytes) -> np.ndarray:
    """The images of a /predict body, (N, 784) or (N, 28, 28), or an HTTPException saying what is wrong.

    A large body of the plain form {"input": [...]} is parsed a piece at a time (parsed_in_pieces); anything
    else, or a piece that is wrong, is parsed whole, so that messages name the right image.
    The pixel values themselves (finite, 0-255) are checked by the predictor, once.
    """
    if len(body) > PIECE_BYTES:
        pieces = parsed_in_pieces(body)
        if pieces is not None:
            return np.concatenate(pieces)
    payload = decode_json(body)
    images = payload.get("input") if isinstance(payload, dict) else None
    if not isinstance(images, list):
        raise HTTPException(422, f"missing or malformed field 'input': expected a JSON object {EXPECTED_BODY}")
    if not images:
        raise HTTPException(422, f"expected at least one image in 'input', got an empty list; send {EXPECTED_BODY}")
    if len(images) > MAX_IMAGES:
        raise too_many_images(len(images))
    return images_array(images, body)


def too_many_images(count: int) -> HTTPException:
    return HTTPException(413, f"too many images: expected at most {MAX_IMAGES:,} per request, got {count:,}")


def parsed_in_pieces(body: bytes) -> list[np.ndarray] | None:
    """The images of a large {"input": [...]} body as arrays of ~PIECE_BYTES each, or None when it is not so plain;
    a 413 at once for more than MAX_IMAGES, counted between the images' brackets.

    Each piece holds the interpreter's lock ~10 ms; parsed whole, 10,000 images held it ~0.35 s, and the worker's
    event loop (health checks, other requests) waited that long.
    """
    start, end = INPUT_START.match(body), INPUT_END.search(body)
    if start is None or end is None or end.start() <= start.end():
        return None
    content = body[start.end() : end.start()]
    square = SQUARE_START.match(content) is not None
    boundary, closing = (SQUARE_BOUNDARY, 2) if square else (FLAT_BOUNDARY, 1)  # brackets each piece keeps
    total = len(boundary.findall(content)) + 1  # 20 ms for 10,000 images; parsing them (twice) took 0.8 s
    if total > MAX_IMAGES:
        raise too_many_images(total)
    pieces, position, count = [], 0, 0
    while position < len(content):
        found = boundary.search(content, position + PIECE_BYTES)
        stop = found.start() + closing if found else len(content)
        piece = content[position:stop]
        try:
            images = orjson.loads(b"[" + piece + b"]")
        except orjson.JSONDecodeError:
            return None
        count += len(images)
        if not images or count > MAX_IMAGES or not isinstance(images[0], list):
            return None
        try:
            pieces.append(images_array(images, piece))
        except HTTPException:  # parsed whole, the body gets a message naming the image
            return None
        position = found.end() - closing if found else len(content)
    shapes = {piece.shape[1:] for piece in pieces}
    return pieces if len(shapes) == 1 else None


def images_array(images: list, body: bytes) -> np.ndarray:
    """A non-empty list of images as an array (N, 784) or (N, 28, 28), or an HTTPException saying what is wrong."""
    if b"true" in body or b"false" in body:  # JSON booleans are ints to Python and NumPy: look for them by name
        refuse_non_numbers(images)
    pixels = byte_pixels(images)
    if pixels is not None:
        return pixels
    try:
        array = np.asarray(images)
    except (ValueError, TypeError, OverflowError):  # rows of different lengths, or lists mixed with numbers
        raise HTTPException(422, shape_problem(images)) from None
    if array.shape[1:] not in ((NUM_PIXELS,), (IMAGE_SIDE, IMAGE_SIDE)):
        raise HTTPException(422, shape_problem(images))
    if array.dtype.kind not in "iuf":
        refuse_non_numbers(images)
        # all numbers, yet no NumPy number type holds them: an integer beyond int64
        culprit = first_value(images, lambda value: not 0 <= value <= MAX_PIXEL)
        raise HTTPException(422, f"expected pixel values from 0 to {MAX_PIXEL}, got {culprit}")
    return array


def byte_pixels(images: list) -> np.ndarray | None:
    """(N, 784) uint8 when every image is a flat list of integers 0-255 (the tutorial's own form), else None.

    bytes() checks and packs each list in C: 2 ms for 500 images where np.asarray takes 9 (bench/api.py).
    """
    if not all(isinstance(image, list) and len(image) == NUM_PIXELS for image in images):
        return None
    try:
        packed = b"".join(map(bytes, images))
    except (TypeError, ValueError):  # floats, values outside 0-255 or non-numbers: the general path reports them
        return None
    return np.frombuffer(packed, np.uint8).reshape(len(images), NUM_PIXELS)


def decode_json(body: bytes):
    """Parse fast with orjson; on failure retry with the lenient json module, so NaN gets a precise message."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as error:
            raise HTTPException(400, f"body is not valid JSON ({error}); expected {EXPECTED_BODY}") from None


def shape_problem(images: list) -> str:
    """Name the first image of the wrong size, for a list that is not N images of 784 or 28x28 numbers."""
    for index, image in enumerate(images):
        if not isinstance(image, list):
            return f"image {index} is {as_json(image)}, not a list; expected each image as {NUM_PIXELS} pixel values"
        if not (image and isinstance(image[0], list)):
            if len(image) != NUM_PIXELS:
                return f"expected {NUM_PIXELS} pixel values per image, got {len(image)} in image {index}"
        elif len(image) != IMAGE_SIDE:
            return f"expected {IMAGE_SIDE} rows of {IMAGE_SIDE} pixel values per image, got {len(image)} rows in image {index}"
        else:
            for row_index, row in enumerate(image):
                if not isinstance(row, list) or len(row) != IMAGE_SIDE:
                    got = f"{len(row)} values" if isinstance(row, list) else as_json(row)
                    return f"expected {IMAGE_SIDE} pixel values per row, got {got} in row {row_index} of image {index}"
                nested = next((value for value in row if isinstance(value, list)), None)
                if nested is not None:
                    return (
                        f"expected numbers in row {row_index} of image {index}, got a list {as_json(nested)}: "
                        f"an image is {IMAGE_SIDE} rows of {IMAGE_SIDE} numbers, not nested deeper"
                    )
    return f"expected every image as {NUM_PIXELS} pixel values or {IMAGE_SIDE} rows of {IMAGE_SIDE}, not a mix of both"


def refuse_non_numbers(images: list) -> None:
    """HTTPException naming the first value that is not a JSON number (a string, null, true, an object)."""
    culprit = first_value(images, lambda value: isinstance(value, bool) or not isinstance(value, (int, float)))
    if culprit is not None:
        raise HTTPException(422, f"expected pixel values as numbers 0-{MAX_PIXEL}, got {culprit}")


def first_value(images: list, is_wrong) -> str | None:
    """The first value in the nested lists for which is_wrong(value) holds, as JSON text; None if none does."""
    pending = [images]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(reversed(item))
        elif is_wrong(item):
            return as_json(item)
    return None


def as_json(value) -> str:
    """A value as the client wrote it, cut short for error messages."""
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."
