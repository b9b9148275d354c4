"""Turn a drawing or a photo of a digit into the 28x28 image the model expects, the way MNIST made its digits.

MNIST fitted each digit's bounding box into 20x20 pixels (keeping the aspect ratio, anti-aliased)
and placed it in a 28x28 field by its centre of mass. Doing the same here is what makes a digit
drawn anywhere, at any size, look like the digits the model learnt from.
"""

import io
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from scipy import ndimage

from digitlens import IMAGE_SIDE, MAX_PIXEL

DIGIT_BOX = 20  # MNIST's bounding box for the digit inside the 28x28 field
INK_THRESHOLD = 0.2  # share of the darkest-to-brightest range below which a pixel counts as background
MIN_INK_CONTRAST = 32  # 0-255 levels; flatter images hold no digit
MAX_IMAGE_PIXELS = 40_000_000
SPECK_SHARE = 0.02
MNIST_STROKE_WIDTH = (2.2, 3.4)  # pixels in 28x28, 10th-85th percentile of MNIST training digits
NO_INK_MESSAGE = "no digit found: the image is blank; draw or upload a digit first"


class NoInkError(ValueError):
    """The image holds no digit: it is blank or of one flat colour. Callers say "draw a digit first"."""


class ImageError(ValueError):
    """The file is not an image that can be read."""


def read_image(source) -> np.ndarray:
    """Decode a PNG/JPEG/... from a path, bytes or a binary file into an array; ImageError if it cannot."""
    name = str(source) if isinstance(source, (str, Path)) else "the upload"
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        image = Image.open(source)
        if image.width * image.height > MAX_IMAGE_PIXELS:
            raise ImageError(f"{name}: image of {image.width}x{image.height} pixels is too large (limit {MAX_IMAGE_PIXELS:,})")
        image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as error:
        raise ImageError(f"{name}: not a readable image (PNG, JPEG, ...): {error}") from None
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    return np.asarray(image.convert("RGBA" if has_alpha else "RGB"))


def ink_map(image) -> np.ndarray:
    """Float (H, W) ink strength 0-1 from a grayscale, gray+alpha, RGB or RGBA array of either polarity.

    Transparent pixels are background (a canvas draws on a transparent layer); otherwise ink is whatever
    differs from the paper, the median of the border, so light-on-dark and dark-on-light both work.
    """
    array = np.asarray(image, dtype=np.float32)
    if array.ndim == 3 and array.shape[2] in (2, 4):
        alpha = array[..., -1]
        array = alpha if alpha.min() < MAX_PIXEL else array[..., :-1]
    if array.ndim == 3 and array.shape[2] == 3:
        array = array @ np.array([0.299, 0.587, 0.114], np.float32)
    elif array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim != 2 or min(array.shape) < 1:
        raise ValueError(f"expected an image array (H, W), (H, W, 3) or (H, W, 4), got shape {np.shape(image)}")
    if not np.isfinite(array).all():
        raise ValueError("expected finite pixel values, got NaN or infinity")
    paper = np.median(np.concatenate([array[0], array[-1], array[:, 0], array[:, -1]]))
    ink = np.abs(array - paper)
    strongest = ink.max()
    if strongest < MIN_INK_CONTRAST:
        raise NoInkError(NO_INK_MESSAGE)
    ink /= strongest
    ink[ink < INK_THRESHOLD] = 0
    return drop_specks(ink)


def drop_specks(ink: np.ndarray) -> np.ndarray:
    """Remove blobs holding under 2 % of the ink (dust, a stray tap), which would stretch the bounding box."""
    components, count = ndimage.label(ink > 0, structure=np.ones((3, 3)))
    if count <= 1:
        return ink
    mass = ndimage.sum(ink, components, index=np.arange(1, count + 1))
    keep = np.concatenate([[False], mass >= SPECK_SHARE * mass.sum()])
    return np.where(keep[components], ink, 0)


def stroke_width(ink: np.ndarray) -> float:
    """Mean stroke width in pixels: a stroke w wide has mean distance-to-edge w/4 (+0.5 for pixel centres)."""
    inside = ink > 0.5
    if not inside.any():
        return 0.0
    return float(4 * (ndimage.distance_transform_edt(inside)[inside].mean() - 0.5))


def with_stroke_width(ink: np.ndarray, width: float) -> np.ndarray:
    """Redraw the ink with strokes of the given mean width, growing or shrinking every edge alike (anti-aliased)."""
    inside = ink > 0.5
    signed = ndimage.distance_transform_edt(inside) - ndimage.distance_transform_edt(~inside)
    edge_distance = np.where(inside, signed - 0.5, signed + 0.5)
    return np.clip(edge_distance + (width - stroke_width(ink)) / 2 + 0.5, 0, 1).astype(np.float32)


def crop(ink: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(ink)
    if rows.size == 0:
        raise NoInkError(NO_INK_MESSAGE)
    return ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def to_mnist(image, stroke_widths: tuple[float, float] | None = None) -> np.ndarray:
    """Uint8 (28, 28) MNIST-style digit from any drawing or image; NoInkError when there is no ink.

    Strokes far thinner or thicker than MNIST's (a fine pen on a large drawing, a fat brush on a small one)
    are first brought into stroke_widths, MNIST's range (None keeps them as drawn).
    """
    ink = crop(ink_map(image))
    scale = DIGIT_BOX / max(ink.shape)
    width = stroke_width(ink) * scale
    if stroke_widths and not stroke_widths[0] <= width <= stroke_widths[1]:
        target = float(np.clip(width, *stroke_widths))
        ink = np.pad(ink, int(np.ceil(target / scale)))
        ink = crop(with_stroke_width(ink, target / scale))
        scale = DIGIT_BOX / max(ink.shape)
    height, width = ink.shape
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    box = np.asarray(Image.fromarray(ink * MAX_PIXEL).resize(size, Image.Resampling.LANCZOS)).clip(0, MAX_PIXEL)
    ys, xs = np.indices(box.shape)
    total = box.sum()
    centre_y, centre_x = (ys * box).sum() / total, (xs * box).sum() / total
    top = min(max(int(round(IMAGE_SIDE / 2 - centre_y)), 0), IMAGE_SIDE - box.shape[0])
    left = min(max(int(round(IMAGE_SIDE / 2 - centre_x)), 0), IMAGE_SIDE - box.shape[1])
    field = np.zeros((IMAGE_SIDE, IMAGE_SIDE), np.float32)
    field[top : top + box.shape[0], left : left + box.shape[1]] = box
    return field.round().astype(np.uint8)
