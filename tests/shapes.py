"""Test inputs shared by the suite: shapes that are not digits, numbers written in one picture, a photo of a digit.

Glyphs are pen strokes in a unit box, as digitlens.strokes.DIGIT_STROKES; a number is a list of glyphs side by side.
"""

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from digitlens.strokes import DIGIT_STROKES

STAR = [[(0.5 + 0.45 * np.sin(a), 0.5 - 0.45 * np.cos(a)) for a in np.radians(np.arange(0, 721, 144))]]
CROSS = [[(0.1, 0.1), (0.9, 0.9)], [(0.9, 0.1), (0.1, 0.9)]]
GLYPH_GAP = 0.35  # space between glyphs, as a share of a glyph's side
MARGIN = 0.12  # share of the picture's height left free above, below and before the first glyph


def glyphs(text: str) -> list:
    """The glyphs of a text of digits, "*" for a star and "x" for a cross: "4*2" -> [4's strokes, star, 2's strokes]."""
    return [{"*": STAR, "x": CROSS}.get(character) or DIGIT_STROKES[int(character)] for character in text]


def placed(text: str, left: float, top: float, height: float) -> list[list[tuple[float, float]]]:
    """The strokes of the text's glyphs side by side, in the coordinates of a picture or canvas of that height at (left, top)."""
    side = height * (1 - 2 * MARGIN)
    strokes = []
    for index, glyph in enumerate(glyphs(text)):
        glyph_left, glyph_top = left + height * MARGIN + index * side * (1 + GLYPH_GAP), top + height * MARGIN
        strokes += [[(glyph_left + x * side, glyph_top + y * side) for x, y in stroke] for stroke in glyph]
    return strokes


def written(text: str, height: int = 280, pen: int = 18) -> np.ndarray:
    """Grey (height, width) picture of the text's glyphs side by side, black ink on white paper."""
    side = height * (1 - 2 * MARGIN)
    image = Image.new("L", (round(height * 2 * MARGIN + side * (len(text) * (1 + GLYPH_GAP) - GLYPH_GAP)), height), 255)
    drawing = ImageDraw.Draw(image)
    for points in placed(text, 0, 0, height):
        drawing.line(points, fill=0, width=pen, joint="curve")
        for x, y in (points[0], points[-1]):
            drawing.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=0)
    return np.asarray(image)


def photo_of(text: str, format: str = "JPEG") -> bytes:
    """The text as a phone photo of it: dark-grey ink on off-white paper, lit unevenly from one side, soft and grainy."""
    ink = written(text, height=600, pen=26).astype(np.float32) / 255  # 0 where the pen went, 1 on paper
    light = np.linspace(0.95, 0.72, ink.shape[1])[None, :] * np.linspace(1.0, 0.9, ink.shape[0])[:, None]
    grey = 255 * light * (0.25 + 0.75 * ink) + np.random.default_rng(0).normal(0, 4, ink.shape)
    picture = Image.fromarray(grey.clip(0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.5))
    tinted = Image.merge("RGB", [picture.point(lambda v, k=k: v * k) for k in (1.0, 0.97, 0.9)])  # warm paper
    buffer = io.BytesIO()
    tinted.save(buffer, format=format, quality=85)
    return buffer.getvalue()


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def sixteen_bit(grey: np.ndarray, format: str) -> bytes:
    """An 8-bit greyscale picture saved as a scanner may: 16 bits a pixel (a PNG, a TIFF no browser shows)."""
    buffer = io.BytesIO()
    Image.fromarray(grey.astype(np.uint16) * 257).save(buffer, format=format)
    return buffer.getvalue()
