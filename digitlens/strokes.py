"""Pen strokes of the ten digits, drawn the way people draw them on a canvas: for tests and robustness checks.

Each digit is a list of strokes; each stroke a list of (x, y) points in a unit box, y pointing down.
"""

import numpy as np
from PIL import Image, ImageDraw


def _arc(cx, cy, rx, ry, start_degrees, end_degrees, steps=24):
    angles = np.radians(np.linspace(start_degrees, end_degrees, steps))
    return list(zip(cx + rx * np.cos(angles), cy + ry * np.sin(angles)))


_t = np.linspace(0, 2 * np.pi, 48)

DIGIT_STROKES = {
    0: [_arc(0.5, 0.5, 0.3, 0.42, -90, 275)],
    1: [[(0.38, 0.22), (0.52, 0.08), (0.52, 0.92)]],
    2: [_arc(0.5, 0.32, 0.26, 0.22, 200, 370)[:-4] + [(0.22, 0.9), (0.82, 0.9)]],
    3: [_arc(0.48, 0.29, 0.25, 0.2, 210, 450) + _arc(0.48, 0.7, 0.28, 0.21, -90, 150)],
    4: [[(0.6, 0.08), (0.18, 0.64), (0.85, 0.64)], [(0.66, 0.35), (0.66, 0.94)]],
    5: [[(0.78, 0.1), (0.32, 0.1), (0.28, 0.46)] + _arc(0.5, 0.66, 0.29, 0.25, -125, 150)],
    6: [[(0.68, 0.08), (0.42, 0.35), (0.28, 0.62)] + _arc(0.5, 0.7, 0.23, 0.21, 180, 540)],
    7: [[(0.18, 0.1), (0.82, 0.1), (0.42, 0.92)]],
    8: [list(zip(0.5 - 0.24 * np.sin(2 * _t), 0.5 - 0.42 * np.cos(_t)))],
    9: [_arc(0.48, 0.3, 0.24, 0.21, 0, 365) + [(0.72, 0.32), (0.66, 0.92)]],
}


def draw(
    digit: int | list,
    size: int = 280,
    box: tuple[float, float, float, float] = (0.2, 0.15, 0.8, 0.85),
    width: int = 18,
    dark_on_light: bool = False,
    rgba: bool = True,
) -> np.ndarray:
    """Render a digit's strokes (or given strokes) into box (left, top, right, bottom as shares of size).

    By default an RGBA array like streamlit-drawable-canvas returns: white strokes on a transparent layer.
    """
    left, top, right, bottom = (v * size for v in box)
    background, ink = (255, 0) if dark_on_light else (0, 255)
    if rgba:
        image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
        colour = (ink, ink, ink, 255)
    else:
        image = Image.new("L", (size, size), background)
        colour = ink
    pen = ImageDraw.Draw(image)
    for stroke in DIGIT_STROKES[digit] if isinstance(digit, int) else digit:
        points = [(left + x * (right - left), top + y * (bottom - top)) for x, y in stroke]
        pen.line(points, fill=colour, width=width, joint="curve")
        for x, y in (points[0], points[-1]):
            pen.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=colour)
    return np.asarray(image)


def canvas_points(digit: int, left: float, top: float, side: float) -> list[list[tuple[float, float]]]:
    """The digit's strokes in screen coordinates for a square of given side at (left, top): for mouse drawing."""
    return [[(left + x * side, top + y * side) for x, y in stroke] for stroke in DIGIT_STROKES[digit]]


def random_drawing(rng: np.random.Generator, size: int = 280) -> tuple[np.ndarray, int]:
    """A digit as a stranger might draw it: any size and place, slanted, wobbly, thin or thick, either polarity."""
    digit = int(rng.integers(10))
    angle, shear = np.radians(rng.uniform(-12, 12)), rng.uniform(-0.25, 0.25)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    warp = rotation @ np.array([[1, -shear], [0, 1]])
    strokes = [
        [tuple(warp @ (np.array(point) - 0.5) + 0.5 + rng.normal(0, 0.006, 2)) for point in stroke]
        for stroke in DIGIT_STROKES[digit]
    ]
    height = rng.uniform(0.25, 0.9)
    width = height * rng.uniform(0.6, 1.0)
    left, top = rng.uniform(0, 1 - width), rng.uniform(0, 1 - height)
    image = draw(
        strokes,
        size=size,
        box=(left, top, left + width, top + height),
        width=int(rng.integers(6, 36)),
        dark_on_light=bool(rng.random() < 0.3),
        rgba=bool(rng.random() < 0.5),
    )
    return image, digit
