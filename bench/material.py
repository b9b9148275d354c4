"""Held-out material for bench/real_world.py: digits, numbers and non-digits in the form people bring them.

Made only from sources the model never trained on: scikit-learn's 1,797 handwritten 8x8 digits (the test
forms of UCI's optdigits, 13 writers), handwriting and ordinary fonts from Debian packages, and MNIST *test* digits.
Never a font that digitlens/nondigits.py trains on, nor Pillow's built-in one, nothing drawn by
digitlens/strokes.py or digitlens/nondigits.py. Scribbles and doodles are drawn here.

Each set returns (images, labels, tags): images as arrays of natural size (a camera's RGB, a scan's
grayscale, the dashboard canvas' RGBA with white strokes on a transparent layer), labels (a digit, a digit
string for numbers, -1 for non-digits) and one tuple of tags per image (source, pen, medium...) for the
breakdowns. "dev" and "final" share no source item and no seed: dev uses the first half of the sklearn file
(writer ids are not shipped; the file order approximates a writer split), MNIST test ids 0-4999 and one set
of font families; final the rest. Fonts: apt-get install fonts-comic-neue fonts-dancingscript
fonts-dkg-handwriting fonts-liberation fonts-urw-base35 (dev), fonts-humor-sans fonts-kaushanscript
fonts-rufscript fonts-noto-core (final).
"""

import functools
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from scipy import ndimage

from digitlens import data, nondigits

SPLITS = ("dev", "final")
SEEDS = {"dev": 1126, "final": 90417}
SKLEARN_ROWS = {"dev": slice(0, 899), "final": slice(899, None)}
MNIST_TEST_IDS = {"dev": slice(0, 5000), "final": slice(5000, 10000)}
FONT_DIR = Path("/usr/share/fonts")
FONT_GLOBS = {
    ("dev", "handwriting"): ["opentype/comic-neue/*.otf", "opentype/dancingscript/*.otf", "truetype/fifthhorseman/*.ttf"],
    ("final", "handwriting"): ["truetype/humor-sans/*.ttf", "opentype/kaushanscript/*.otf", "truetype/rufscript/*.ttf"],
    ("dev", "print"): ["truetype/liberation/*.ttf"]
    + [f"opentype/urw-base35/{family}-*.otf" for family in ("NimbusSans", "NimbusRoman", "URWGothic", "C059")],
    ("final", "print"): ["truetype/noto/NotoSans-*.ttf", "truetype/noto/NotoSerif-*.ttf"]
    + [f"opentype/urw-base35/{family}-*.otf" for family in ("P052", "URWBookman", "NimbusMonoPS", "NimbusSansNarrow", "Z003")],
}

PAPER_DYES = np.array([(1.0, 0.94, 0.55), (1.0, 0.75, 0.78), (0.75, 0.94, 0.75), (0.7, 0.82, 1.0)], np.float32)
SET_SIZES = {"photos": 600, "handwriting": 800, "canvas": 800, "non_digits": 600, "numbers": 300}
NOT_A_DIGIT = -1
CANVAS_SIDE = 280  # the dashboard's drawing canvas
NUMBER_CANVAS = (700, 280)  # width, height: a wide canvas for numbers
CANVAS_PEN = (8, 32)
GLYPH_FONT_SIZE = 280  # digits come out ~200 px high
GLYPH_STROKES = range(7)  # PIL stroke_width at that size: hairline to marker
MNIST_UPSCALE = 4  # MNIST digits are skeletonised at 112 px
SKELETON_SMOOTHING = 4  # passes of neighbour averaging along the centre line
FRAME_SIDE = (200, 1600)  # long side of a photo, log-uniform
DIGIT_SHARE = (0.2, 0.7)  # height of the digit in a photo, share of the frame's height
JPEG_QUALITY = (60, 90)
PENS = {  # width as a share of the digit's height, ink colours (RGB), opacity
    "ballpoint": ((0.02, 0.045), [(25, 45, 150), (30, 30, 40), (175, 35, 40)], (0.8, 1.0)),
    "pencil": ((0.02, 0.04), [(95, 95, 100), (120, 118, 115)], (0.45, 0.8)),
    "felt pen": ((0.06, 0.12), [(20, 20, 25), (20, 50, 160), (190, 30, 35), (20, 110, 60)], (0.9, 1.0)),
}
DESKS = np.array(
    [(105, 72, 45), (70, 50, 35), (45, 45, 48), (20, 20, 22), (60, 70, 85)], np.float32
)  # wood, grey, black, blue-grey
SKLEARN_PENS = ("felt pen",)  # its 8x8 digits enlarged make thick strokes whatever the pen
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
DIGIT_LIKE_LETTERS = "IOSZlosz"  # a person could fairly read these as 1, 0, 5, 2: reported apart
DIGIT_LIKE = "digit-like letter"  # their tag
SIGNS = "!?#%&*+=@$€£§~<>^"
DOODLE_WOBBLE_POINTS = 6  # points over which a hand-drawn line drifts (a circle has 40)
DOODLES = (
    "stick figure",
    "sun",
    "arrow",
    "flower",
    "cloud",
    "tick",
    "question mark",
    "wavy line",
    "dot",
    "cross",
    "heart",
    "house",
    "star",
    "smiley",
)


# ---- sources ----


@functools.cache
def sklearn_digits(split: str) -> tuple[np.ndarray, np.ndarray]:
    """The split's half of scikit-learn's 8x8 digits, values 0-16, and their labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.images[SKLEARN_ROWS[split]], digits.target[SKLEARN_ROWS[split]]


@functools.cache
def mnist_test(split: str) -> tuple[np.ndarray, np.ndarray]:
    """The split's range of MNIST test images (the model trains on the training images only)."""
    images, labels = data.load("test")
    return images[MNIST_TEST_IDS[split]], labels[MNIST_TEST_IDS[split]]


@functools.cache
def fonts(split: str, kind: str) -> tuple[Path, ...]:
    """Installed font files of the split ("handwriting" or "print"); FileNotFoundError names the apt packages."""
    found = sorted(path for pattern in FONT_GLOBS[split, kind] for path in FONT_DIR.glob(pattern))
    if not found:
        raise FileNotFoundError(
            f"no {kind} fonts for {split} under {FONT_DIR}; install the apt packages named in bench/material.py"
        )
    assert not set(found) & set(nondigits.training_fonts()), "the model trains on these fonts (digitlens/nondigits.py)"
    return tuple(found)


@functools.cache
def font(path: Path) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), GLYPH_FONT_SIZE)


def render_text(path: Path, text: str, stroke: int) -> np.ndarray:
    image = Image.new("L", (GLYPH_FONT_SIZE * 3, GLYPH_FONT_SIZE * 2), 0)
    ImageDraw.Draw(image).text(
        (GLYPH_FONT_SIZE * 1.5, GLYPH_FONT_SIZE),
        text,
        font=font(path),
        fill=255,
        anchor="mm",
        stroke_width=stroke,
        stroke_fill=255,
    )
    return np.asarray(image, np.float32) / 255


@functools.cache
def missing_glyph(path: Path) -> np.ndarray:
    """What the font draws for a character it lacks (a box, or nothing)."""
    return render_text(path, "\U000f0000", 0)


def glyph_ink(path: Path, char: str, stroke: int) -> np.ndarray | None:
    """Coverage 0-1 of one character, cropped; None when the font lacks it."""
    if np.array_equal(render_text(path, char, 0), missing_glyph(path)):
        return None
    return crop(render_text(path, char, stroke))


def sklearn_ink(digit: np.ndarray, height: int, rng: np.random.Generator) -> np.ndarray:
    """An 8x8 digit enlarged smoothly to the given height: thick, soft strokes, as from a low-resolution scan."""
    enlarged = resize(np.pad(digit / 16, 1), round(height * 10 / 8), Image.Resampling.BICUBIC)
    low, soft = rng.uniform(0.3, 0.55), rng.uniform(0.1, 0.3)
    return crop(np.clip((enlarged - low) / soft, 0, 1))


@functools.cache
def mnist_skeleton(image: bytes) -> tuple[np.ndarray, ...]:
    """The centre lines of a 28x28 MNIST digit as two-point segments (x, y), the digit 1 high."""
    from skimage.morphology import skeletonize

    side = 28 * MNIST_UPSCALE
    digit = np.frombuffer(image, np.uint8).reshape(28, 28) / 255
    enlarged = resize(digit, side, Image.Resampling.BICUBIC)
    skeleton = skeletonize(enlarged > enlarged.max() / 2)
    ys, xs = np.nonzero(skeleton)
    index = np.full(skeleton.shape, -1)
    index[ys, xs] = np.arange(len(ys))
    padded = np.pad(index, 1, constant_values=-1)
    pairs = []
    for dy, dx in [(0, 1), (1, 0), (1, 1), (1, -1)]:
        neighbour = padded[ys + 1 + dy, xs + 1 + dx]
        pairs.append(np.stack([np.arange(len(ys)), neighbour], axis=1)[neighbour >= 0])
    pairs = np.concatenate(pairs)
    points = np.stack([xs, ys], axis=1).astype(np.float32)
    for _ in range(SKELETON_SMOOTHING):  # the pixel staircase would show as a jagged line when drawn large
        total, count = points.copy(), np.ones(len(points), np.float32)
        for this, other in ((pairs[:, 0], pairs[:, 1]), (pairs[:, 1], pairs[:, 0])):
            np.add.at(total, this, points[other])
            np.add.at(count, this, 1)
        points = total / count[:, None]
    scale = 1 / max(np.ptp(points[:, 1]), 1)
    if not len(pairs):  # a single pixel
        return (points[:1] * scale,)
    return tuple(points[pairs] * scale)


def hand_warp(lines, rng: np.random.Generator, strength: float = 1.0) -> list[np.ndarray]:
    """The same lines as another hand would draw them: a little rotated, slanted, squeezed."""
    angle, shear = np.radians(rng.normal(0, 5 * strength)), rng.normal(0, 0.12 * strength)
    aspect = np.exp(rng.normal(0, 0.1 * strength))
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    matrix = rotation @ np.array([[aspect, shear], [0, 1]])
    return [line @ matrix.T for line in lines]


def pen_ink(lines, size: float, width: float) -> np.ndarray:
    """Coverage 0-1 of lines (x, y points) scaled to `size` on their longer side, drawn with a round pen, anti-aliased."""
    points = np.concatenate(lines)
    low, high = points.min(axis=0), points.max(axis=0)
    scale = size / max((high - low).max(), 1e-6)
    pad = int(np.ceil(width / 2)) + 2
    centre = Image.new("L", tuple(np.ceil((high - low) * scale).astype(int) + 2 * pad + 1), 0)
    draw = ImageDraw.Draw(centre)
    for line in lines:
        xy = [tuple(point) for point in (line - low) * scale + pad]
        if len(xy) > 1:
            draw.line(xy, fill=255, width=1)
        else:
            draw.point(xy, fill=255)
    distance = ndimage.distance_transform_edt(np.asarray(centre) == 0)
    return crop(np.clip(width / 2 - distance + 0.5, 0, 1).astype(np.float32))


def crop(ink: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(ink > 0.02)
    return ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def resize(ink: np.ndarray, height: int, resample=Image.Resampling.LANCZOS) -> np.ndarray:
    """Coverage scaled to the given height, aspect kept."""
    width = max(1, round(ink.shape[1] * height / ink.shape[0]))
    return np.clip(np.asarray(Image.fromarray(ink.astype(np.float32), "F").resize((width, max(1, height)), resample)), 0, 1)


def rotate(ink: np.ndarray, degrees: float) -> np.ndarray:
    return crop(
        np.asarray(Image.fromarray(ink.astype(np.float32), "F").rotate(degrees, Image.Resampling.BICUBIC, expand=True)).clip(0, 1)
    )


# ---- ink makers: (height in px, pen width in px or None) -> coverage, so the same digit can be drawn at any scale ----


def digit_inker(source: str, label: int, split: str, rng: np.random.Generator):
    """A function drawing one handwritten `label` from the source ("sklearn", "fonts", "mnist") at any height."""
    if source == "sklearn":
        images, labels = sklearn_digits(split)
        digit = images[rng.choice(np.nonzero(labels == label)[0])]
        seed = int(rng.integers(2**32))
        return lambda height, width: sklearn_ink(digit, height, np.random.default_rng(seed))
    if source == "fonts":
        return text_inker(rng.choice(fonts(split, "handwriting")), str(label), rng)
    images, labels = mnist_test(split)
    lines = hand_warp(mnist_skeleton(images[rng.choice(np.nonzero(labels == label)[0])].tobytes()), rng)
    return lambda height, width: pen_ink(lines, height, width)


def text_inker(path: Path, text: str, rng: np.random.Generator, stroke: int | None = None):
    """A function drawing text in a font; a pen width picks the matching stroke_width, else `stroke`."""
    fixed = int(rng.choice(GLYPH_STROKES)) if stroke is None else stroke

    def draw(height, width):
        at_size = (
            fixed if width is None else int(np.clip(round((width / height * 200 - 12) / 2), 0, 8))
        )  # ~12 px strokes at stroke 0
        ink = glyph_ink(path, text, at_size)
        return None if ink is None else resize(ink, height)

    return draw


def lines_inker(lines):
    return lambda height, width: pen_ink(lines, height, width)


# ---- media ----


def canvas(ink: np.ndarray, rng: np.random.Generator, size: tuple[int, int] = (CANVAS_SIDE, CANVAS_SIDE)) -> np.ndarray:
    """RGBA as streamlit-drawable-canvas returns it: white strokes (255, 255, 255, a) on transparent (0, 0, 0, 0)."""
    width, height = size
    if ink.shape[0] > height or ink.shape[1] > width:
        ink = resize(ink, int(ink.shape[0] * min(height / ink.shape[0], width / ink.shape[1])))
    top = int(rng.integers(0, height - ink.shape[0] + 1))
    left = int(rng.integers(0, width - ink.shape[1] + 1))
    alpha = np.zeros((height, width), np.uint8)
    hard = np.clip((ink - 0.5) * 3 + 0.5, 0, 1)  # a canvas stroke has a crisp, anti-aliased edge, not a blur
    alpha[top : top + ink.shape[0], left : left + ink.shape[1]] = np.round(hard * 255).astype(np.uint8)
    rgba = np.zeros((height, width, 4), np.uint8)
    rgba[alpha > 0, :3] = 255
    rgba[..., 3] = alpha
    return rgba


def photograph(
    draw, rng: np.random.Generator, frame=None, quality: int | None = None, wide: bool = False, pens=tuple(PENS), share=DIGIT_SHARE
):
    """A phone photo of ink on paper, decoded from its JPEG: tint, light, shadows, rulings, specks, blur, noise.

    draw(height, pen_width) makes the ink at the size it has in the photo. Returns (RGB array, pen name).
    """
    if frame is None:
        long_side = np.exp(rng.uniform(*np.log(FRAME_SIDE)))
        aspect = rng.choice([2.0, 1.5, 4 / 3]) if wide else rng.choice([1.0, 4 / 3, 3 / 4, 3 / 2, 2 / 3])
        frame = (round(long_side), round(long_side / aspect)) if aspect >= 1 else (round(long_side * aspect), round(long_side))
    width, height = frame
    pen = str(rng.choice(pens))
    (thin, thick), colours, opacity = PENS[pen]
    digit_height = rng.uniform(*share) * height
    ink = draw(round(digit_height), max(1.5, rng.uniform(thin, thick) * digit_height))
    if ink is None:
        return None, pen
    tilt = rng.normal(0, 3)
    ink = rotate(ink, tilt + rng.normal(0, 2))
    if ink.shape[1] > 0.92 * width or ink.shape[0] > 0.92 * height:
        ink = resize(ink, round(ink.shape[0] * min(0.92 * width / ink.shape[1], 0.92 * height / ink.shape[0])))
    top = int(rng.integers(0, height - ink.shape[0] + 1))
    left = int(rng.integers(0, width - ink.shape[1] + 1))
    ink = ink * rng.uniform(*opacity)
    if pen == "pencil":  # graphite leaves a lighter, grainy line
        grain = ndimage.gaussian_filter(rng.standard_normal(ink.shape, dtype=np.float32), 0.8)
        ink *= np.clip(1 - 0.3 * np.abs(grain) / grain.std(), 0.3, 1)
    box = (left, top, left + ink.shape[1], top + ink.shape[0])
    image = paper(frame, digit_height, np.radians(tilt), box, rng)
    blend(image[top : box[3], left : box[2]], ink, colours[rng.integers(len(colours))])
    image = lighting(image, box, rng)
    focus = blurred(image, rng.uniform(0, 0.0012) * max(frame) + 0.3)
    image = focus + rng.standard_normal(image.shape, dtype=np.float32) * rng.uniform(1.5, 6)
    return jpeg(image, quality or int(rng.integers(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1))), pen


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """The image saved as a JPEG of this quality and decoded again, RGB."""
    buffer = io.BytesIO()
    Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


def blurred(image: np.ndarray, radius: float) -> np.ndarray:
    """Float32: the image through a Gaussian blur of this radius (as 8-bit RGB, the way a camera's pipeline has it)."""
    return np.asarray(Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(radius)), np.float32)


def paper(frame: tuple[int, int], digit_height: float, tilt: float, box, rng: np.random.Generator) -> np.ndarray:
    """Float RGB paper: a tint, maybe ruled (blue or grey, a red margin) or squared, with specks."""
    width, height = frame
    tint = rng.uniform(238, 252) + np.array([rng.uniform(-3, 3), rng.uniform(-5, 0), rng.uniform(-16, 2)], np.float32)
    image = np.empty((height, width, 3), np.float32)
    image[:] = tint
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    across = ys * np.cos(tilt) - xs * np.sin(tilt)
    along = xs * np.cos(tilt) + ys * np.sin(tilt)
    kind = rng.choice(["plain", "ruled", "squared"], p=[0.35, 0.45, 0.2])
    lines = np.zeros((height, width), np.float32)
    thickness = max(1.0, digit_height * rng.uniform(0.008, 0.02))
    if kind == "ruled":
        lines = line_pattern(across, max(12.0, digit_height * rng.uniform(0.6, 1.4)), thickness, rng)
        margin = width * rng.uniform(0.05, 0.15)
        if rng.random() < 0.3 and margin < box[0] - thickness * 3:
            image = blend(image, np.clip(thickness - np.abs(along - margin) + 0.5, 0, 1) * 0.6, (210, 90, 90))
    elif kind == "squared":
        spacing = max(8.0, digit_height * rng.uniform(0.12, 0.3))
        lines = np.maximum(
            line_pattern(across, spacing, thickness * 0.7, rng), line_pattern(along, spacing, thickness * 0.7, rng)
        )
    colour = [(120, 160, 215), (150, 150, 155), (110, 175, 200)][rng.integers(3)]
    image = blend(image, lines * rng.uniform(0.35, 0.75), colour)
    specks = Image.new("L", frame, 0)
    scale = max(frame) / 800
    for _ in range(int(rng.integers(0, 15))):
        x, y, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(0.5, 2.5) * scale
        ImageDraw.Draw(specks).ellipse((x - r, y - r, x + r, y + r), fill=int(rng.uniform(40, 180)))
    return blend(image, np.asarray(specks, np.float32) / 255, (60, 55, 50))


def line_pattern(position: np.ndarray, spacing: float, thickness: float, rng: np.random.Generator) -> np.ndarray:
    """Anti-aliased parallel lines, `spacing` apart, across a coordinate map."""
    offset = (position - rng.uniform(0, spacing)) % spacing
    return np.clip(thickness / 2 - np.minimum(offset, spacing - offset) + 0.5, 0, 1)


def blend(image: np.ndarray, alpha: np.ndarray, colour) -> np.ndarray:
    """Paint a colour over the image with coverage alpha, in place (only where alpha > 0: layers are sparse)."""
    where = alpha > 0
    image[where] += (np.asarray(colour, np.float32) - image[where]) * alpha[where, None]
    return image


def lighting(image: np.ndarray, box, rng: np.random.Generator) -> np.ndarray:
    """Uneven light, a soft shadow (a hand, the phone), and sometimes a dark corner or edge: the desk or a deep shadow."""
    height, width = image.shape[:2]
    small = (max(4, width // 8), max(4, height // 8))
    ys, xs = np.mgrid[0 : small[1], 0 : small[0]].astype(np.float32)
    ys, xs = ys / small[1] - 0.5, xs / small[0] - 0.5
    angle = rng.uniform(0, 2 * np.pi)
    light = 1 + rng.uniform(0.05, 0.3) * (xs * np.cos(angle) + ys * np.sin(angle)) - rng.uniform(0, 0.5) * (xs**2 + ys**2)
    light *= rng.uniform(0.65, 1.02)
    if rng.random() < 0.5:
        shadow = Image.new("L", small, 0)
        centre = rng.uniform(-0.2, 1.2, 2) * small
        corners = centre + rng.normal(0, 0.35, (6, 2)) * small
        ImageDraw.Draw(shadow).polygon([tuple(point) for point in corners], fill=255)
        soft = np.asarray(shadow.filter(ImageFilter.GaussianBlur(max(small) * rng.uniform(0.03, 0.12))), np.float32) / 255
        light *= 1 - rng.uniform(0.15, 0.45) * soft
    light_full = np.asarray(Image.fromarray(light.astype(np.float32), "F").resize((width, height), Image.Resampling.BILINEAR))
    image = image * light_full[..., None] * rng.uniform(0.92, 1.04, 3).astype(np.float32)  # exposure and white balance
    if rng.random() < 0.35:
        # the corner or edge farthest from the digit goes dark: the desk beyond the sheet, or a deep shadow
        ys, xs = np.ogrid[0:height, 0:width]
        left, top, right, bottom = box
        from_right, from_bottom = left + right < width, top + bottom < height
        across, down = (width - xs if from_right else xs) / width, (height - ys if from_bottom else ys) / height
        clear_x = (width - right if from_right else left) / width
        clear_y = (height - bottom if from_bottom else top) / height
        reach_x, reach_y = (3.0 if rng.random() < 0.4 else rng.uniform(0.1, 0.45)), rng.uniform(0.1, 0.45)  # 3: a whole edge
        clearance = clear_x / reach_x + clear_y / reach_y
        if clearance < 1.1:  # keep the region off the digit
            reach_x, reach_y = reach_x * clearance / 1.1, reach_y * clearance / 1.1
        beyond = (1 - across / reach_x - down / reach_y).astype(np.float32)
        if rng.random() < 0.5:
            image = image * (1 - rng.uniform(0.5, 0.8) * np.clip(beyond * 3, 0, 1))[..., None]
        else:
            image = blend(
                image, np.clip(beyond * min(width, height) / 2, 0, 1), DESKS[rng.integers(len(DESKS))] * rng.uniform(0.6, 1.2)
            )
    return image


# ---- drawn shapes ----


def bezier_scribble(rng: np.random.Generator) -> list[np.ndarray]:
    """One to three smooth random curves (chained cubic Beziers) in a unit box."""
    curves = []
    for _ in range(int(rng.integers(1, 4))):
        anchors = rng.uniform(0, 1, (int(rng.integers(2, 6)), 2))
        handles = rng.normal(0, 0.3, anchors.shape)
        t = np.linspace(0, 1, 24)[:, None]
        points = []
        for (p0, p3), (h0, h3) in zip(zip(anchors[:-1], anchors[1:]), zip(handles[:-1], handles[1:])):
            p1, p2 = p0 + h0, p3 - h3
            points.append((1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t**2 * p2 + t**3 * p3)
        curves.append(np.concatenate(points))
    return curves


def arc(cx, cy, rx, ry, start, stop, count=40) -> np.ndarray:
    angles = np.radians(np.linspace(start, stop, count))
    return np.stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)], axis=1)


def doodle(name: str, rng: np.random.Generator) -> list[np.ndarray]:
    """A hand-drawn doodle in a unit box (y down), wobbly like a hand."""
    lines = {
        "stick figure": lambda: [
            arc(0.5, 0.15, 0.12, 0.12, 0, 360),
            [[0.5, 0.27], [0.5, 0.65]],
            [[0.25, 0.42], [0.75, 0.42]],
            [[0.5, 0.65], [0.32, 0.95]],
            [[0.5, 0.65], [0.68, 0.95]],
        ],
        "sun": lambda: (
            [arc(0.5, 0.5, 0.22, 0.22, 0, 360)]
            + [
                [[0.5 + 0.3 * np.cos(a), 0.5 + 0.3 * np.sin(a)], [0.5 + 0.48 * np.cos(a), 0.5 + 0.48 * np.sin(a)]]
                for a in np.linspace(0, 2 * np.pi, int(rng.integers(7, 13)), endpoint=False)
            ]
        ),
        "arrow": lambda: [[[0.05, 0.5], [0.95, 0.5]], [[0.7, 0.3], [0.95, 0.5], [0.7, 0.7]]],
        "flower": lambda: (
            [arc(0.5, 0.35, 0.08, 0.08, 0, 360), [[0.5, 0.5], [0.52, 1.0]]]
            + [
                arc(0.5 + 0.17 * np.cos(a), 0.35 + 0.17 * np.sin(a), 0.09, 0.09, 0, 360)
                for a in np.linspace(0, 2 * np.pi, int(rng.integers(5, 8)), endpoint=False)
            ]
        ),
        "cloud": lambda: [
            np.concatenate(
                [
                    arc(0.25, 0.55, 0.15, 0.15, 90, 270),
                    arc(0.42, 0.4, 0.18, 0.18, 180, 340),
                    arc(0.65, 0.42, 0.16, 0.16, 200, 360),
                    arc(0.78, 0.58, 0.13, 0.13, 270, 450),
                    [[0.25, 0.7]],
                ]
            )
        ],
        "tick": lambda: [[[0.1, 0.55], [0.38, 0.85], [0.95, 0.1]]],
        "question mark": lambda: [np.concatenate([arc(0.5, 0.3, 0.22, 0.2, 180, 400), [[0.5, 0.65]]]), [[0.5, 0.9]]],
        "wavy line": lambda: [
            np.stack([np.linspace(0, 1, 60), 0.5 + 0.12 * np.sin(np.linspace(0, rng.uniform(3, 7) * np.pi, 60))], axis=1)
        ],
        "dot": lambda: [[[0.5, 0.5]]],
        "cross": lambda: [[[0.1, 0.1], [0.9, 0.9]], [[0.9, 0.1], [0.1, 0.9]]],
        "heart": lambda: [
            np.concatenate([arc(0.3, 0.3, 0.2, 0.2, 150, 360), arc(0.7, 0.3, 0.2, 0.2, 180, 390), [[0.5, 0.9], [0.13, 0.4]]])
        ],
        "house": lambda: [
            [[0.15, 0.45], [0.15, 0.95], [0.85, 0.95], [0.85, 0.45], [0.5, 0.1], [0.15, 0.45], [0.85, 0.45]],
            [[0.42, 0.95], [0.42, 0.7], [0.58, 0.7], [0.58, 0.95]],
        ],
        "star": lambda: [np.array([[0.5 + 0.45 * np.sin(a), 0.55 - 0.45 * np.cos(a)] for a in np.linspace(0, 4 * np.pi, 6)])],
        "smiley": lambda: [arc(0.5, 0.5, 0.45, 0.45, 0, 360), arc(0.5, 0.55, 0.25, 0.2, 20, 160), [[0.35, 0.35]], [[0.65, 0.35]]],
    }[name]()
    wobble = rng.uniform(0.01, 0.03)
    return hand_warp([np.asarray(line, np.float32) + hand_wobble(len(line), wobble, rng) for line in lines], rng, 0.8)


def hand_wobble(count: int, amount: float, rng: np.random.Generator) -> np.ndarray:
    """Slow drift (x, y) along a line of `count` points: a hand strays smoothly, it does not jitter."""
    drift = ndimage.gaussian_filter1d(rng.normal(0, 1, (count, 2)), DOODLE_WOBBLE_POINTS, axis=0, mode="nearest")
    return (drift / max(drift.std(), 1e-6) * amount).astype(np.float32)


# ---- the sets ----


def as_set(items: list) -> tuple[list, np.ndarray, list]:
    """(image, label, tags) items as (images, labels, tags)."""
    images, labels, tags = zip(*items)
    return list(images), np.array(labels), list(tags)


def photos(seed: int, split: str = "dev") -> tuple[list, np.ndarray, list]:
    """Single digits written on paper and photographed; ink from sklearn digits, handwriting fonts, MNIST test digits."""
    rng = np.random.default_rng(seed)
    items = []
    while len(items) < SET_SIZES["photos"]:
        source, label = ("sklearn", "fonts", "mnist")[len(items) % 3], int(rng.integers(10))
        image, pen = photograph(
            digit_inker(source, label, split, rng), rng, pens=SKLEARN_PENS if source == "sklearn" else tuple(PENS)
        )
        if image is not None:
            items.append((image, label, (source, pen)))
    return as_set(items)


def handwriting(seed: int, split: str = "dev") -> tuple[list, np.ndarray, list]:
    """Real handwriting not from MNIST, cropped like a scan: sklearn digits enlarged, handwriting fonts at many weights."""
    rng = np.random.default_rng(seed)
    items = []
    while len(items) < SET_SIZES["handwriting"]:
        source, label = ("sklearn", "fonts")[len(items) % 2], int(rng.integers(10))
        if source == "sklearn":
            # the whole low-resolution field enlarged, as a small scan blown up
            digits, digit_labels = sklearn_digits(split)
            digit = np.pad(digits[rng.choice(np.nonzero(digit_labels == label)[0])] / 16, int(rng.integers(1, 3)))
            ink = resize(digit, int(rng.integers(100, 301)), Image.Resampling.BICUBIC)
            weight = "soft"
        else:
            stroke = int(rng.choice(GLYPH_STROKES))
            ink = glyph_ink(rng.choice(fonts(split, "handwriting")), str(label), stroke)
            if ink is None:
                continue
            ink = np.pad(
                ink, [(round(ink.shape[0] * rng.uniform(0.05, 0.4)),) * 2, (round(ink.shape[0] * rng.uniform(0.05, 0.4)),) * 2]
            )
            weight = "thin" if stroke <= 1 else "medium" if stroke <= 3 else "thick"
        dark_on_light = rng.random() < 0.6
        paper, ink_level = (
            (rng.uniform(215, 255), rng.uniform(0, 60)) if dark_on_light else (rng.uniform(0, 40), rng.uniform(190, 255))
        )
        gray = (paper + (ink_level - paper) * ink).round().astype(np.uint8)
        image = np.repeat(gray[..., None], 3, axis=2) if rng.random() < 0.5 else gray
        items.append((image, label, (source, weight, "dark on light" if dark_on_light else "light on dark")))
    return as_set(items)


def canvas_drawings(seed: int, split: str = "dev") -> tuple[list, np.ndarray, list]:
    """MNIST test digits' centre lines redrawn on the dashboard canvas with a round pen of 8-32 px, any size and place."""
    rng = np.random.default_rng(seed)
    digits, digit_labels = mnist_test(split)
    items = []
    for _ in range(SET_SIZES["canvas"]):
        index = int(rng.integers(len(digits)))
        pen = float(rng.uniform(*CANVAS_PEN))
        height = rng.uniform(max(56, 4.5 * pen), CANVAS_SIDE - pen)
        ink = pen_ink(hand_warp(mnist_skeleton(digits[index].tobytes()), rng), height, pen)
        pen_range = "pen 8-15 px" if pen < 16 else "pen 16-23 px" if pen < 24 else "pen 24-32 px"
        items.append((canvas(ink, rng), int(digit_labels[index]), (pen_range, "small (<120 px)" if height < 120 else "large")))
    return as_set(items)


def non_digits(seed: int, split: str = "dev") -> tuple[list, np.ndarray, list]:
    """Letters, signs, scribbles and doodles drawn on the canvas or on paper and photographed."""
    rng = np.random.default_rng(seed)
    all_fonts = fonts(split, "handwriting") + fonts(split, "print")
    items = []
    while len(items) < SET_SIZES["non_digits"]:
        kind = ("letter", "letter", "sign", "scribble", "doodle")[len(items) % 5]
        if kind == "letter":
            char = LETTERS[rng.integers(len(LETTERS))]
            kind = DIGIT_LIKE if char in DIGIT_LIKE_LETTERS else kind
            draw = text_inker(rng.choice(all_fonts), char, rng)
        elif kind == "sign":
            draw = text_inker(rng.choice(all_fonts), SIGNS[rng.integers(len(SIGNS))], rng)
        else:
            draw = lines_inker(bezier_scribble(rng) if kind == "scribble" else doodle(DOODLES[rng.integers(len(DOODLES))], rng))
        if rng.random() < 0.5:
            image, medium = photograph(draw, rng)[0], "photo"
        else:
            pen = float(rng.uniform(*CANVAS_PEN))
            ink = draw(round(rng.uniform(max(56, 4.5 * pen), CANVAS_SIDE - pen)), pen)
            image, medium = (None if ink is None else canvas(ink, rng)), "canvas"
        if image is not None:
            items.append((image, NOT_A_DIGIT, (kind, medium)))
    return as_set(items)


def numbers(seed: int, split: str = "dev") -> tuple[list, np.ndarray, list]:
    """Numbers of 2-5 digits written left to right, gaps from wide to touching, on a wide canvas or photographed."""
    rng = np.random.default_rng(seed)
    items = []
    while len(items) < SET_SIZES["numbers"]:
        source = ("sklearn", "fonts", "mnist")[len(items) % 3]
        text = "".join(str(digit) for digit in rng.integers(0, 10, int(rng.integers(2, 6))))
        touching = rng.random() < 0.3
        gaps = rng.uniform(-0.1, 0.0, len(text) - 1) if touching else rng.uniform(0.05, 0.5, len(text) - 1)
        if source == "fonts":  # one writer per number: one font
            path, stroke = rng.choice(fonts(split, "handwriting")), int(rng.choice(GLYPH_STROKES))
            inkers = [text_inker(path, digit, rng, stroke) for digit in text]
        else:
            inkers = [digit_inker(source, int(digit), split, rng) for digit in text]
        draw = number_inker(inkers, gaps, rng)
        if rng.random() < 0.5:
            image, medium = (
                photograph(draw, rng, wide=True, pens=SKLEARN_PENS if source == "sklearn" else tuple(PENS))[0],
                "photo",
            )
        else:
            pen = float(rng.uniform(8, 24))
            ink = draw(round(rng.uniform(max(80, 4.5 * pen), NUMBER_CANVAS[1] - pen)), pen)
            image, medium = (None if ink is None else canvas(ink, rng, NUMBER_CANVAS)), "canvas"
        if image is not None:
            items.append((image, text, (source, medium, "touching" if touching else "apart")))
    return as_set(items)


def number_inker(inkers: list, gaps: np.ndarray, rng: np.random.Generator):
    """A function drawing the digits side by side at any height, each a little larger or smaller."""
    sizes = np.exp(rng.normal(0, 0.06, len(inkers)))

    def draw(height, width):
        inks = [inker(round(height * size), width) for inker, size in zip(inkers, sizes)]
        return None if any(ink is None for ink in inks) else row(inks, gaps, height, rng)

    return draw


def row(inks: list[np.ndarray], gaps: np.ndarray, height: float, rng: np.random.Generator) -> np.ndarray:
    """Digits side by side on a common baseline (a little wobble), gaps as shares of the height; negative gaps overlap."""
    tallest = max(ink.shape[0] for ink in inks)
    lefts = (
        np.concatenate([[0], np.cumsum([ink.shape[1] + gap * height for ink, gap in zip(inks[:-1], gaps)])]).round().astype(int)
    )
    lefts -= lefts.min()
    width = max(left + ink.shape[1] for left, ink in zip(lefts, inks))
    slack = int(0.1 * height)
    out = np.zeros((tallest + 2 * slack, width), np.float32)
    for left, ink in zip(lefts, inks):
        top = tallest - ink.shape[0] + slack + int(rng.integers(-slack, slack + 1))
        region = out[top : top + ink.shape[0], left : left + ink.shape[1]]
        np.maximum(region, ink, out=region)
    return crop(out)


def condition_photos(condition: str, split: str, count: int):
    """Photos of single digits taken under one of CONDITIONS, outside the photo set's ranges, one at a time
    (a 12 MP frame is 36 MB): yields (image, label, source). Every condition draws the same digits."""
    settings = CONDITIONS[condition]
    rng = np.random.default_rng(SEEDS[split] + 100)
    for index in range(count):
        source, label = ("sklearn", "fonts", "mnist")[index % 3], int(rng.integers(10))
        draw = digit_inker(source, label, split, rng)
        if "turn" in settings:
            draw = turned_inker(draw, float(rng.choice([-1, 1]) * rng.uniform(*settings["turn"])))
        image, _ = photograph(
            draw, rng, frame=settings.get("frame"), pens=SKLEARN_PENS if source == "sklearn" else tuple(PENS),
            share=settings.get("share", DIGIT_SHARE),
        )
        if image is not None:
            yield (settings["after"](image, rng) if "after" in settings else image), label, source


def turned_inker(draw, degrees: float):
    return lambda height, width: None if (ink := draw(height, width)) is None else rotate(ink, degrees)


def coloured_paper(image, rng):
    """A sticky note or coloured card: each channel of the page dimmed as the paper's dye absorbs it."""
    return jpeg(image * PAPER_DYES[rng.integers(len(PAPER_DYES))], 80)


def dim_and_blurred(image, rng):
    """A dark room: a third of the light, a slow shutter's blur, the noise the sensor's gain brings up."""
    return jpeg(blurred(image, 1.5 + max(image.shape) / 600) * 0.35 + rng.normal(0, 4, image.shape), 70)


def on_a_desk(image, rng):
    """A card or a page lying on a desk that fills the rest of the frame: the photo shrunk to 40-80 % of the
    frame each way and put on a wood, grey or black desk, the desk lit unevenly as the page is."""
    height, width = image.shape[:2]
    share = rng.uniform(0.4, 0.8)
    page = np.asarray(Image.fromarray(image).resize((round(width * share), round(height * share)), Image.Resampling.LANCZOS), np.float32)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    light = 1 + 0.3 * ((xs / width - 0.5) * np.cos(angle) + (ys / height - 0.5) * np.sin(angle))
    desk = DESKS[rng.integers(len(DESKS))] * light[..., None]
    top = int(rng.integers(1, height - page.shape[0])) if height - page.shape[0] > 1 else 0
    left = int(rng.integers(1, width - page.shape[1])) if width - page.shape[1] > 1 else 0
    desk[top : top + page.shape[0], left : left + page.shape[1]] = page
    return jpeg(desk + rng.normal(0, 3, desk.shape), 80)


def broad_shadow(image, rng):
    """The shadow of a hand or a phone over 55-80 % of the page, from one side, 35-55 % deep, its edge soft."""
    height, width = image.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    along = (xs / width - 0.5) * np.cos(angle) + (ys / height - 0.5) * np.sin(angle)  # -0.7 to 0.7 across the frame
    edge = np.quantile(along, rng.uniform(0.55, 0.8))
    soft = np.clip((edge - along) / rng.uniform(0.05, 0.15) + 0.5, 0, 1)
    return jpeg(image * (1 - rng.uniform(0.35, 0.55) * soft)[..., None], 80)


CONDITIONS = {  # how a photo is taken: beyond the photo set's ranges (DIGIT_SHARE, a few degrees, JPEG 60-90)
    "the photo set's ranges": {},
    "digit small in the frame (8-18 %)": {"share": (0.08, 0.18)},
    "digit filling the frame (70-95 %)": {"share": (0.7, 0.95)},
    "turned 12-25 degrees": {"turn": (12, 25)},
    "12 MP frame (4000x3000)": {"frame": (4000, 3000)},
    "coloured paper": {"after": coloured_paper},
    "dim and blurred": {"after": dim_and_blurred},
    "light ink on dark (a blackboard)": {"after": lambda image, rng: jpeg(255 - image * 0.9, 80)},
    "JPEG quality 15": {"after": lambda image, rng: jpeg(image, 15)},
    "out of focus": {"after": lambda image, rng: jpeg(blurred(image, max(image.shape) / 250), 80)},
    "noisy sensor": {"after": lambda image, rng: jpeg(image + rng.normal(0, 18, image.shape), 75)},
    "a card on a desk (40-80 % of the frame)": {"after": on_a_desk},
    "a broad shadow over most of the page": {"after": broad_shadow},
}


SETS = {"photos": photos, "handwriting": handwriting, "canvas": canvas_drawings, "non_digits": non_digits, "numbers": numbers}


def build(split: str = "dev") -> dict[str, tuple[list, np.ndarray, list]]:
    """Every set of the split, each from its own seed."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return {name: make(SEEDS[split] + index, split) for index, (name, make) in enumerate(SETS.items())}
