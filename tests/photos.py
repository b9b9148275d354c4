"""Photos of ink on paper for tests: a drawing's strokes put on tinted paper under uneven light, as a phone sees them."""

import io

import numpy as np
from PIL import Image
from scipy import ndimage

from digitlens.strokes import draw


def drawn_ink(digit, size=400, box=(0.3, 0.25, 0.65, 0.75), width=14):
    """The digit's strokes as float ink 0-1 on a size x size page."""
    return draw(digit, size=size, box=box, width=width, rgba=False) / 255


def paper_photo(
    ink: np.ndarray,
    ink_colour=(25, 35, 120),
    light_gradient: float = 0.25,
    shadow_corner: bool = False,
    broad_shadow: float = 0.0,
    ruled_every: int | None = None,
    noise: float = 4.0,
    seed: int = 0,
) -> np.ndarray:
    """RGB uint8 photo of the ink (float (H, W) 0-1) written on cream paper: a light gradient across the page,
    optionally a soft shadow over one corner, a broad one (a hand's or the phone's) of that depth over the left
    two thirds, and blue ruled lines every ruled_every pixels, sensor noise."""
    rng = np.random.default_rng(seed)
    height, width = ink.shape
    ys, xs = np.mgrid[0:height, 0:width] / max(height, width)
    light = 1 - light_gradient * (0.6 * xs + 0.4 * ys)
    if shadow_corner:
        corner = np.clip((xs + ys - 1.1) * 8, 0, 1)
        light = light * (1 - 0.5 * ndimage.gaussian_filter(corner, 6))
    light = light * (1 - broad_shadow * np.clip((0.72 - xs) * 8, 0, 1))
    paper = np.ones((height, width, 3)) * np.array([238, 232, 215])
    if ruled_every:
        for row in range(ruled_every // 2, height, ruled_every):
            paper[row : row + 2] = [160, 180, 220]
    page = paper * (1 - ink[..., None]) + np.array(ink_colour) * ink[..., None]
    photo = page * light[..., None] + rng.normal(0, noise, page.shape)
    return photo.clip(0, 255).astype(np.uint8)


def jpeg_bytes(image: np.ndarray, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def on_a_desk(page: np.ndarray, share: float = 0.45, desk=(45, 38, 32)) -> np.ndarray:
    """RGB photo of a page (an RGB photo of paper) lying on a dark desk, the page share of the frame each way:
    the desk covers most of the frame."""
    height, width = page.shape[:2]
    frame = np.empty((round(height / share), round(width / share), 3), np.uint8)
    frame[:] = desk
    top, left = (frame.shape[0] - height) // 3, (frame.shape[1] - width) // 2
    frame[top : top + height, left : left + width] = page
    return frame
