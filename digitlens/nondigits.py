"""Synthetic things that are not digits, for teaching the model to say "that's not a digit" (outlier exposure).

Letters and signs from the fonts this machine has, scribbles, doodles, dots, lines and blobs, drawn large on a
canvas, then brought to MNIST's form by the same `to_mnist` as every real input (and as many training digits,
so that the model cannot tell the two apart by how they were resampled). Glyphs are often redrawn along their
centre line with a round pen (`penned`), as the canvas draws and as the training digits are redrawn too: a
letter must be refused for its shape, not for looking typeset. Shapes a person could fairly
read as a digit (O, I, l, S, Z, a plain ring, a vertical bar) are left out: refusing them would refuse real digits.
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from digitlens.preprocess import NoInkError, to_mnist

CANVAS = 112  # pixels; drawn at four times MNIST's size, then reduced like any input
# DejaVu is in Debian's base image; the others where installed: print (fonts-freefont-ttf fonts-sil-andika
# fonts-roboto-unhinted fonts-lato fonts-open-sans fonts-crosextra-carlito) and handwriting (fonts-breip fonts-bwht
# fonts-kristi fonts-tlwg-purisa fonts-leckerli-one fonts-lobster fonts-ecolier-court). bench/material.py uses none.
TRAINING_FONT_GLOBS = [
    "truetype/dejavu/*.ttf", "truetype/freefont/*.ttf", "truetype/andika/*.ttf", "truetype/roboto/**/*.ttf",
    "truetype/lato/*.ttf", "truetype/open-sans/*.ttf", "truetype/crosextra/*.ttf",
    "truetype/breip/*.ttf", "opentype/bwht/*.otf", "truetype/kristi/*.ttf", "truetype/tlwg/Purisa*.ttf",
    "truetype/leckerli-one/*.ttf", "opentype/lobster/*.otf", "truetype/ecolier-court/*.ttf",
]
FONT_ROOT = Path("/usr/share/fonts")
GLYPHS = "ACEFHKMNPRTUVWXYacdefhkmnprtuvwxy#%&*+<=>?@$!€£¥§¶©®✓✗→←↑↓♥★☺☹"
KINDS = ("glyph", "scribble", "doodle", "dots", "lines", "blob", "word")
PENNED_SHARE = 0.5  # of glyphs (and font digits) redrawn with a round pen along their centre line
PEN_RADIUS = (1.2, 7.0)  # pixels at CANVAS size: the dashboard's 8-32 px pens on its 280 px canvas, and finer


def training_fonts() -> list[Path]:
    """Font files for the glyphs, of those TRAINING_FONT_GLOBS names that are installed (Pillow's built-in font is always added)."""
    return sorted({path for pattern in TRAINING_FONT_GLOBS for path in FONT_ROOT.glob(pattern)})


def render(rng: np.random.Generator, kind: str, fonts: list[Path]) -> Image.Image:
    """One non-digit of the given kind, white on black, CANVAS pixels square."""
    image = Image.new("L", (CANVAS, CANVAS), 0)
    pen = ImageDraw.Draw(image)
    width = int(rng.integers(2, 12))
    if kind == "glyph":
        return text_image(rng, str(rng.choice(list(GLYPHS))), fonts, int(rng.integers(50, 90)))
    if kind == "word":
        return text_image(rng, "".join(rng.choice(list(GLYPHS[:40]), size=int(rng.integers(2, 4)))), fonts, int(rng.integers(28, 44)))
    if kind == "scribble":
        for _ in range(int(rng.integers(1, 3))):
            steps = rng.normal(0, 18, (int(rng.integers(6, 24)), 2)).cumsum(axis=0)
            points = steps - steps.mean(axis=0) + CANVAS / 2 + rng.normal(0, 10, 2)
            pen.line([tuple(p) for p in points.clip(4, CANVAS - 4)], fill=255, width=width, joint="curve")
        return image
    if kind == "dots":
        for _ in range(int(rng.integers(1, 5))):
            x, y = rng.uniform(15, CANVAS - 15, 2)
            radius = rng.uniform(3, 14)
            pen.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
        return image
    if kind == "lines":
        # near-horizontal lines (a dash, =, hatching); a lone near-vertical line is a 1 and is left out
        angle = np.radians(rng.uniform(-40, 40) + (90 * int(rng.integers(2)) if rng.random() < 0.3 else 0))
        count = int(rng.integers(1, 4)) if abs(np.degrees(angle)) < 45 else int(rng.integers(2, 4))
        direction, normal = np.array([np.cos(angle), np.sin(angle)]), np.array([-np.sin(angle), np.cos(angle)])
        length, gap = rng.uniform(40, 95), rng.uniform(12, 25)
        for index in range(count):
            centre = CANVAS / 2 + normal * gap * (index - (count - 1) / 2)
            start, end = centre - direction * length / 2, centre + direction * length / 2
            pen.line([tuple(start), tuple(end)], fill=255, width=width)
        return image
    if kind == "blob":
        count = int(rng.integers(5, 10))
        angles = np.sort(rng.uniform(0, 2 * np.pi, count))
        radii = rng.uniform(15, 45, count)
        pen.polygon([(CANVAS / 2 + r * np.cos(a), CANVAS / 2 + r * np.sin(a)) for r, a in zip(radii, angles)], fill=255)
        return image
    doodle(rng, pen, width)
    return image


def text_image(rng: np.random.Generator, text: str, fonts: list[Path], size: int) -> Image.Image:
    """The text in a random font (or Pillow's own), a little bolder or not, turned a little: white on black.

    A family (the fonts' folder) is picked first, then one of its files: Lato's 18 weights count as much as
    one handwriting font, so that half the text is handwriting."""
    image = Image.new("L", (CANVAS, CANVAS), 0)
    families = sorted({path.parent for path in fonts}, key=str)
    choice = int(rng.integers(len(families) + 1))
    if choice < len(families):
        family = [path for path in fonts if path.parent == families[choice]]
        font = ImageFont.truetype(str(family[int(rng.integers(len(family)))]), size)
    else:
        font = ImageFont.load_default(size)
    stroke = int(rng.integers(0, 3))
    ImageDraw.Draw(image).text((CANVAS / 2, CANVAS / 2), text, fill=255, font=font, anchor="mm", stroke_width=stroke, stroke_fill=255)
    image = image.rotate(float(rng.uniform(-15, 15)), resample=Image.Resampling.BILINEAR)
    return Image.fromarray(penned(np.asarray(image), rng)) if rng.random() < PENNED_SHARE else image


def penned(gray: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """White-on-black ink redrawn along its centre line with a round pen of random width, edges anti-aliased."""
    from skimage.morphology import skeletonize  # training only: scikit-image is in requirements-dev.txt

    centre = skeletonize(gray > 127)
    if not centre.any():
        return gray
    radius = rng.uniform(*PEN_RADIUS)
    distance = ndimage.distance_transform_edt(~centre)
    return (np.clip(radius + 0.5 - distance, 0, 1) * 255).astype(np.uint8)


def font_digits(count: int, seed: int, fonts: list[Path] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Uint8 (count, 28, 28) digits in the same fonts and rendering as the glyphs, and their labels: without them,
    the digit score would learn that anything rendered from a font is not a digit."""
    rng = np.random.default_rng(seed)
    fonts = training_fonts() if fonts is None else fonts
    labels = rng.integers(0, 10, count)
    images = np.stack([to_mnist(as_canvas(np.asarray(text_image(rng, str(label), fonts, int(rng.integers(50, 90)))))) for label in labels])
    return images, labels


def doodle(rng: np.random.Generator, pen: ImageDraw.ImageDraw, width: int) -> None:
    """A small drawing: a cross, a star, a house, a face, a grid, a zigzag, a spiral, a triangle, a box, a heart."""
    c, r = CANVAS / 2, rng.uniform(25, 45)
    shape = rng.integers(10)
    if shape == 0:  # X
        pen.line([(c - r, c - r), (c + r, c + r)], fill=255, width=width)
        pen.line([(c - r, c + r), (c + r, c - r)], fill=255, width=width)
    elif shape == 1:  # five-pointed star
        points = [(c + r * np.sin(a), c - r * np.cos(a)) for a in np.radians(np.arange(0, 720 + 1, 144))]
        pen.line(points, fill=255, width=width, joint="curve")
    elif shape == 2:  # house
        pen.line([(c - r, c + r), (c - r, c), (c, c - r), (c + r, c), (c + r, c + r), (c - r, c + r)], fill=255, width=width)
    elif shape == 3:  # face
        pen.ellipse((c - r, c - r, c + r, c + r), outline=255, width=width)
        for dx in (-r / 2.5, r / 2.5):
            pen.ellipse((c + dx - 4, c - r / 3 - 4, c + dx + 4, c - r / 3 + 4), fill=255)
        pen.arc((c - r / 2, c - r / 4, c + r / 2, c + r / 2), 20, 160, fill=255, width=max(2, width // 2))
    elif shape == 4:  # grid, #
        for offset in (-r / 3, r / 3):
            pen.line([(c - r, c + offset), (c + r, c + offset)], fill=255, width=width)
            pen.line([(c + offset, c - r), (c + offset, c + r)], fill=255, width=width)
    elif shape == 5:  # zigzag
        xs = np.linspace(c - r, c + r, int(rng.integers(4, 9)))
        pen.line([(x, c + (r / 3) * (-1) ** i) for i, x in enumerate(xs)], fill=255, width=width)
    elif shape == 6:  # spiral
        t = np.linspace(0, rng.uniform(3, 6) * np.pi, 80)
        pen.line([(c + r * s / t[-1] * np.cos(s), c + r * s / t[-1] * np.sin(s)) for s in t], fill=255, width=width)
    elif shape == 7:  # triangle
        pen.polygon([(c, c - r), (c + r, c + r * 0.8), (c - r, c + r * 0.8)], outline=255, width=width)
    elif shape == 8:  # box, perhaps crossed
        pen.rectangle((c - r, c - r * 0.8, c + r, c + r * 0.8), outline=255, width=width)
        if rng.random() < 0.5:
            pen.line([(c - r, c - r * 0.8), (c + r, c + r * 0.8)], fill=255, width=width)
    else:  # heart
        t = np.linspace(0, 2 * np.pi, 80)
        x, y = 16 * np.sin(t) ** 3, 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
        pen.line(list(zip(c + x * r / 17, c - y * r / 17)), fill=255, width=width, joint="curve")


def as_canvas(gray: np.ndarray) -> np.ndarray:
    """A white-on-black drawing as the dashboard's canvas returns it: white strokes on a transparent layer."""
    canvas = np.full((*gray.shape, 4), 255, np.uint8)
    canvas[..., 3] = gray
    return canvas


def generate(count: int, seed: int, fonts: list[Path] | None = None) -> np.ndarray:
    """Uint8 (count, 28, 28) non-digits in MNIST's form, kinds in equal shares, reproducible from the seed."""
    rng = np.random.default_rng(seed)
    fonts = training_fonts() if fonts is None else fonts
    out = np.empty((count, 28, 28), np.uint8)
    made = 0
    while made < count:
        try:
            out[made] = to_mnist(as_canvas(np.asarray(render(rng, KINDS[made % len(KINDS)], fonts))))
        except NoInkError:  # a glyph this font lacks draws nothing
            continue
        made += 1
    return out
