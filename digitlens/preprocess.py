"""Turn a drawing, a photo or a scan of a digit (or of a number) into the 28x28 images the model expects.

MNIST fitted each digit's bounding box into 20x20 pixels (keeping the aspect ratio, anti-aliased)
and placed it in a 28x28 field by its centre of mass. Doing the same here is what makes a digit
drawn anywhere, at any size, look like the digits the model learnt from.

Photos need more first: the paper is estimated (its tint, the light falling across it, shadows) and
divided out, ruled or squared lines are taken away, and of what is left the digit is chosen, not a speck,
the page edge or a shadow. When that choice leaves the model unsure, it is made again from the photo's
stronger ink or around another mark, and the model's surest reading wins. Strokes are kept as wide as they
were drawn: the model learnt every width.
"""

import io
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

from digitlens import IMAGE_SIDE, INK_THRESHOLD, MAX_PIXEL

DIGIT_BOX = 20  # MNIST's bounding box for the digit inside the 28x28 field
MIN_INK_CONTRAST = 32 / MAX_PIXEL  # flatter images hold no digit
MAX_IMAGE_PIXELS = 40_000_000
IMAGE_FORMATS = "PNG, JPEG, WebP, TIFF, BMP, GIF, ..."  # what read_image decodes (Pillow), as people are told
MAX_ASPECT = 20  # a picture of a digit or a number is at most this many times as wide as tall, or as tall as wide
WORK_SIDE = 512  # the ink is looked for at this size: a digit over a fifth of the frame keeps 100+ pixels
DRAFT_SLACK = 0.9  # JPEG decodes at 1/2, 1/4 or 1/8: one up to this much below WORK_SIDE beats one twice its size
PAPER_SIDE = 128  # the paper is estimated at this size: light and shadows vary slowly
PAPER_STEP = 0.25  # the paper changing by this share from one pixel to the next (at PAPER_SIDE) is an edge, not light
SMALL_IMAGE_SIDE = 64  # images no larger than this are digits already cut out; larger ones are photos
TAIL_RATIO = 5  # a lighter tail not this many times the darker is no verdict that the ink is light (dark_is_ink)
POLARITY_TILES = 4  # ... then tiles judge: 4x4 of them, each mostly lit or mostly shadowed paper
PAPER_WINDOWS = (0.35, 0.1)  # of the image side: the broad and the sharp estimate of the paper (ink_against_paper)
STROKE_CORE = 0.4  # of the strongest ink: what surely is a stroke, from which a thick stroke's inside is grown
RULED_LINE_LENGTH = 0.85  # of the image side: ruled lines run from edge to edge, a digit's strokes do not
RULED_LINE_STRETCH = 0.25  # of the image side: a line's strength is measured over this much of it
SHADED_LINE_STRETCH = 0.6  # of the image side: ... and is at most SHADED_LINE times its strength over this much:
SHADED_LINE = 2  # a shadow darkens a line at most this much; a broad stroke lying on it is stronger still
RULING_ANGLES = np.arange(-8, 9)  # degrees a photo of ruled paper may be turned, tried in 1-degree steps
RULED_LINE_SLACK = 5  # pixels a ruled line may drift over its length (the photo is not quite straight)
RULING_LINES = 3  # long lines in one direction that are ruling however strong: two may be a number's upright strokes
EDGE_TO_EDGE = 0.9  # of the image side: a line this long runs from edge to edge
FAINT_LINE = 0.6  # of the strongest ink: a lone long line fainter than this is ruling, not a 1 filling the frame
LINE_WIDTH = 0.06  # of the image's side: ruling is thinner across (dev photos: 99 % of lines under 0.042)
LINE_PRESENCE = 0.04  # ink level below which no line is there
SPECK_SHARE = 0.02
DOT_LENGTH = 1.35  # pen widths: a mark no longer than this is a dot, a pen's touch (photographed dots 0.9-1.25, digits 1.39+)
DOT_INK_SHARE = 0.8  # of the ink: a dot holds this much, the rest dust beside it
DOT_FILL = np.pi / 4 / DOT_LENGTH**2  # of its box, at least what a dot inks: the disc DOT_LENGTH pen widths allow
DOT_BOX = 4  # pixels: a dot is fitted into this box, not DIGIT_BOX, so it stays a speck the model refuses
NEAR_DIGIT = 0.35  # of the digit's size: ink this close to the largest mark belongs to the same digit
UNSURE = 0.3  # the judge's sureness below which a photo's digit is chosen again (other_choices) ...
SURE = 0.9  # ... and what another choice must reach to replace it: a letter's stroke alone can pass for a 1
STRONGER_INK = (0.35, 0.5, 0.65)  # of the strongest ink: levels a shadow or a grid fainter than the writing drops out at
OTHER_MARKS = 3  # the largest marks each tried as the digit
INSIDE_SHARE = 0.15  # a mark clear of the border is preferred to a larger one touching it, unless this much smaller
PAGE_EDGE_SPAN = 0.9  # a mark spanning this share of the image along an edge is the page's edge or a shadow
PAGE_SIDE = 0.25  # of the frame: a page on a desk spans at least this much each way
PAGE_FILL = 0.6  # of its box: a page, even turned a little, fills this much (a light stroke far less)
DESK_SHADE = 0.75  # of the page's brightness: a desk around it is darker than this
PAGE_INSET = 0.04  # of its size: the page's edge is cut off
DIGIT_ASPECT = 0.75  # width/height of one handwritten digit, where a number has no digit to measure
NARROW_DIGIT = 0.35  # of the height: pieces narrower than this (a 1) do not tell a digit's width
SPLIT_SLACK = 0.3  # a piece 1.7 digits wide holds two touching digits; 1.6, one broad digit
MAX_GROUP = 3  # neighbouring pieces that may be one digit (a 4 or a 5 in strokes that do not touch, a broken stroke)
SURENESS_FLOOR = 0.01  # what is not a digit counts this much however unsure: a star is one "?", not two halves
CUT_COST = 0.5  # log-sureness a cut through a piece costs: a piece is a priori less often two touching digits than one
CUT_SURENESS = 0.5  # a piece one digit wide beside other digits is cut only into parts read this surely: a cross's
# halves, each read as a digit a third sure, are not two digits ("x42" read "7642")
LOW_PART = 0.6  # of the number's median height: a part this much lower is likelier half a digit than a digit ...
LOW_PART_COST = 1.0  # ... and its log-sureness counts this much less: a digit cut into a low stroke and the rest
NOISE_HEIGHT = 0.6  # of the tallest piece: a lower piece at a number's end that the judge rejects is noise, not a digit
NOISE_SURENESS = 0.3  # ... and the judge's sureness below this
FAR_GAP = 1.5  # digit widths: an unsure mark this far from the number's other marks, at its end, is not part of it
OUTLIER_HEIGHT = 1.6  # of the marks' median height: a mark this much taller at a number's end is a shadow, not a digit
BAND_WIDTH = 0.4  # of the picture's width: a flat mark from its border this wide is no digit of a number
BAND_FLATNESS = 2  # ... when this many times as wide as tall
BAND_HEIGHT = 0.7  # ... and at most this share of the tallest mark's height (touching digits make a flat mark too)
GROUP_GAP = 0.5  # of a digit's width: pieces further apart are never one digit
MAX_CUTS = 10  # columns a group of pieces may be cut at (the least inked ones)
MIN_CUT_SPACING = 0.2  # of a digit's width: cut columns closer than this are one choice (a 1 is about this wide)
MAX_PART = 1.6  # of a digit's width: no part of a cut group is wider
FRAGMENT_HEIGHT = 0.45  # of the number's median height: lower pieces are fragments, not digits
FRAGMENT_REACH = 0.25  # of the height: a fragment this close to a digit is part of it
NO_INK_MESSAGE = "no digit found: the image is blank; draw or upload a digit first"


class NoInkError(ValueError):
    """The image holds no digit: it is blank or of one flat colour. Callers say "draw a digit first"."""


class ImageError(ValueError):
    """The file is not an image that can be read."""


def read_image(source, name: str | None = None) -> np.ndarray:
    """Decode a PNG/JPEG/... from a path, bytes or a binary file into an array; ImageError, naming the file (or
    `name`) and the reason, if it cannot.

    Large photos are decoded reduced (JPEG's draft mode, then a box filter) to at most the WORK_SIDE the ink is
    looked for at (a JPEG's draft may land up to DRAFT_SLACK below it), and turned upright as the camera's EXIF
    tag says.
    """
    name = name or (str(source) if isinstance(source, (str, Path)) else "the upload")
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        image = Image.open(source)
        check_size(name, *image.size)  # from the header, before a single pixel is decoded
        scale = WORK_SIDE / max(image.size)
        if scale < 1:
            image.draft(image.mode, tuple(round(side * scale * DRAFT_SLACK) for side in image.size))
        image = ImageOps.exif_transpose(image)
        image.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BOX)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not a readable image: not a format we know ({IMAGE_FORMATS})") from None
    except (Image.DecompressionBombError, OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageError(f"{name}: not a readable image: the file is broken ({error})") from None
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    return np.asarray(eight_bit(image).convert("RGBA" if has_alpha else "RGB"))


def eight_bit(image: Image.Image) -> Image.Image:
    """A 16-bit, 32-bit or float greyscale image (a scanner's) brought to 0-255: Pillow's convert clips its levels,
    so all but the darkest turned white and a grey page read as blank. Its full scale is taken to be the smallest of
    1, 255 and 65535 that holds its brightest pixel."""
    if image.mode not in ("I", "F") and not image.mode.startswith("I;16"):
        return image
    levels = np.nan_to_num(np.asarray(image, dtype=np.float32), nan=0, posinf=0, neginf=0)
    brightest = levels.max()
    full_scale = next((scale for scale in (1, 255, 65535) if brightest <= scale), brightest)
    return Image.fromarray((np.clip(levels, 0, None) * (MAX_PIXEL / full_scale)).round().astype(np.uint8))


def check_size(name: str, width: int, height: int) -> None:
    """ImageError for a picture too large to decode or too thin to hold a digit, told by its header alone."""
    if width < 1 or height < 1:
        raise ImageError(f"{name}: image of {width}x{height} pixels is empty")
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageError(f"{name}: image of {width}x{height} pixels is too large (at most {MAX_IMAGE_PIXELS:,} pixels)")
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise ImageError(
            f"{name}: image of {width}x{height} pixels is too thin to hold a digit "
            f"(at most {MAX_ASPECT} times as wide as tall, or as tall as wide)"
        )


def ink_map(image) -> np.ndarray:
    """Float (H, W) ink strength 0-1 from a grayscale, gray+alpha, RGB or RGBA array of either polarity.

    Transparent pixels are background (a canvas draws on a transparent layer). Otherwise the paper is
    estimated and divided out, so ink in a shadow counts as much as ink in full light, and ruled lines go.
    """
    gray, alpha = gray_and_alpha(image)
    if alpha is not None:
        ink = alpha / MAX_PIXEL
    else:
        gray = reduce(gray, WORK_SIDE)
        brightness = gray if dark_is_ink(gray) else MAX_PIXEL - gray
        if min(gray.shape) > SMALL_IMAGE_SIDE:
            ink = remove_ruled_lines(ink_against_paper(ndimage.gaussian_filter(brightness, 1)))  # smoothed: grain
        else:  # a small image is a digit already cut out (an MNIST image): one paper level, its border's
            paper = np.median(np.concatenate([brightness[0], brightness[-1], brightness[:, 0], brightness[:, -1]]))
            ink = relative_darkness(brightness, np.full_like(brightness, paper))
    strongest = ink.max()
    if strongest < MIN_INK_CONTRAST:
        raise NoInkError(NO_INK_MESSAGE)
    ink = np.clip(ink / strongest, 0, 1)
    ink[ink < INK_THRESHOLD] = 0
    return drop_specks(ink)


def gray_and_alpha(image) -> tuple[np.ndarray, np.ndarray | None]:
    """Float gray levels (H, W) and the alpha channel when it says where the strokes are (some pixels transparent)."""
    array = np.asarray(image, dtype=np.float32)
    alpha = array[..., -1] if has_stroke_layer(array) else None
    if array.ndim == 3 and array.shape[2] in (2, 4):
        array = array[..., :-1]
    if array.ndim == 3 and array.shape[2] == 3:
        array = array @ np.array([0.299, 0.587, 0.114], np.float32)
    elif array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim != 2 or min(array.shape) < 1:
        raise ValueError(f"expected an image array (H, W), (H, W, 3) or (H, W, 4), got shape {np.shape(image)}")
    if not np.isfinite(array).all():
        raise ValueError("expected finite pixel values, got NaN or infinity")
    return array, alpha


def has_stroke_layer(array: np.ndarray) -> bool:
    """An alpha channel that says where the strokes are: some pixels transparent (a canvas drawing), not all opaque."""
    return array.ndim == 3 and array.shape[2] in (2, 4) and array[..., -1].min() < MAX_PIXEL


def reduce(gray: np.ndarray, side: int) -> np.ndarray:
    """The image shrunk (area average) so its longer side is at most side pixels."""
    scale = side / max(gray.shape)
    if scale >= 1:
        return gray
    size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
    return np.asarray(Image.fromarray(gray).resize(size, Image.Resampling.BOX))


def dark_is_ink(gray: np.ndarray) -> bool:
    """True for dark ink on light paper: the tail of rare values lies below the typical (paper) level.

    A shadow or a dark desk over half a photo moves the typical level off the paper, and the lit paper then
    looks like light ink. So a lighter tail that is not TAIL_RATIO times the darker is no verdict: then each
    tile judges by its own typical level, which a soft shadow hardly moves, and the tiles' tails are summed.
    Tiles never overturn a darker tail: where a felt pen's stroke fills a tile, the tile takes it for paper.
    """
    darker, lighter = tails(gray)
    if darker >= lighter or lighter > TAIL_RATIO * darker:
        return darker >= lighter
    tiles = [tile for band in np.array_split(gray, POLARITY_TILES) for tile in np.array_split(band, POLARITY_TILES, axis=1)]
    return sum(np.subtract(*tails(tile)) for tile in tiles if tile.size) >= 0


def tails(gray: np.ndarray) -> tuple[float, float]:
    """How far the darkest and the lightest rare values (0.5 % each) lie from the typical level."""
    low, typical, high = np.percentile(gray, [0.5, 50, 99.5])
    return typical - low, high - typical


def ink_against_paper(brightness: np.ndarray) -> np.ndarray:
    """Ink 0-1 where the image is darker than the paper around it, relative to that paper (light divided out).

    The paper is estimated at two scales (PAPER_WINDOWS). The broad estimate closes over every mark narrower than
    its window: thick strokes stay whole, but a shadow narrower than that is taken for ink. The sharp estimate
    follows shadows, but of a stroke broader than its window it sees only bits, or nothing. So the sharp ink is
    taken everywhere, and the broad ink only where it grows out of sharp strokes (a thick stroke's inside) or out
    of a crisp edge (a felt-pen blob, whose edge is a step a shadow's soft edge never is), not where it stands
    alone (a shadow).
    """
    small = reduce(brightness, PAPER_SIDE)
    broad_paper, sharp_paper = (paper_estimate(small, window) for window in PAPER_WINDOWS)
    broad, sharp = (relative_darkness(brightness, upscale(paper, brightness.shape)) for paper in (broad_paper, sharp_paper))
    broad_ink = broad > STROKE_CORE * broad.max()
    crisp = upscale(steps(small).astype(np.float32), brightness.shape) > 0
    strokes = (sharp > STROKE_CORE * sharp.max()) | (broad_ink & crisp)
    inside = ndimage.binary_propagation(strokes, mask=strokes | broad_ink)
    return np.where(inside, np.maximum(broad, sharp), sharp)


def steps(brightness: np.ndarray) -> np.ndarray:
    """Bool: where the brightness changes by over PAPER_STEP of itself from one pixel to the next (at PAPER_SIDE):
    an edge, not light or a soft shadow."""
    steepest = np.maximum(np.abs(ndimage.sobel(brightness, 0)), np.abs(ndimage.sobel(brightness, 1))) / 4
    return steepest > PAPER_STEP * np.maximum(brightness, 1)


def upscale(small: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return np.asarray(Image.fromarray(small).resize(shape[::-1], Image.Resampling.BILINEAR))


def paper_estimate(small: np.ndarray, window_share: float) -> np.ndarray:
    """The paper's brightness: every dark mark narrower than the window closed over (a grey closing).

    Beyond the image the paper is taken to go on as at its edge, so a shadow cut off by the frame counts as broad.
    """
    window = max(3, round(window_share * min(small.shape)))
    padded = np.pad(small, window, mode="edge")
    paper = ndimage.grey_closing(padded, size=(window, window))[window:-window, window:-window]
    # where the paper changes abruptly (the page's edge against a dark desk, a hard shadow) an estimate this coarse
    # cannot follow the step; the darker side's level there keeps the step itself from looking like a stroke
    step = ndimage.binary_dilation(steps(paper))
    return np.where(step, ndimage.grey_erosion(paper, size=(3, 3)), paper)


def relative_darkness(brightness: np.ndarray, paper: np.ndarray) -> np.ndarray:
    return np.clip((paper - brightness) / np.maximum(paper, 1), 0, 1).astype(np.float32)


def remove_ruled_lines(ink: np.ndarray) -> np.ndarray:
    """Take away ruled or squared paper: straight lines running nearly edge to edge, at the page's slant.

    Lines are taken away when there are RULING_LINES or more in one direction, or one of them is fainter than the
    writing or runs edge to edge (a digit filling the frame can be a long line too, and so can the 1 and the 4 of
    a number in a wide, short picture). Each line's strength is measured along a shorter stretch, so
    a line darker in a shadow goes too, and where a stroke crosses or rides on it, what is stronger stays. A
    stroke broader than that stretch (a felt-pen blob) would pass for the line there; so a line counts at most
    SHADED_LINE times as strong as over a longer stretch, and the blob keeps its middle.
    """
    angle = ruling_angle(ink)
    upright = turned(ink, angle)
    lines = np.zeros_like(upright)
    for axis in (0, 1):
        side = upright.shape[axis]
        length = round(RULED_LINE_LENGTH * side)
        if length < 4 * RULED_LINE_SLACK:
            continue
        # a band: a line a little off straight still fills one
        band = ndimage.grey_dilation(upright, size=along(1 - axis, RULED_LINE_SLACK))
        labels, count = thin_lines(ndimage.grey_opening(band, size=along(axis, length)) > LINE_PRESENCE, axis)
        if count == 0:
            continue
        # the openings run along the axis, each line of pixels on its own: only those the lines lie on are needed
        on = np.flatnonzero((labels > 0).any(axis=axis))
        across = (slice(None), on) if axis == 0 else (on, slice(None))
        band, labels = band[across], labels[across]
        local = np.minimum(ndimage.grey_opening(band, size=along(axis, round(RULED_LINE_STRETCH * side))), upright[across])
        shaded = SHADED_LINE * ndimage.grey_opening(band, size=along(axis, round(SHADED_LINE_STRETCH * side)))
        local = np.minimum(local, shaded)
        if count >= RULING_LINES or any(lone_line_is_ruling(local, labels == k, axis, upright.max()) for k in range(1, count + 1)):
            lines[across] = np.maximum(lines[across], np.where(labels > 0, local, 0))
    return np.clip(ink - turned(lines, -angle), 0, 1)


def thin_lines(long: np.ndarray, axis: int) -> tuple[np.ndarray, int]:
    """The long marks running along the axis that are thin enough to be ruling, labelled 1 to count.

    A digit filling the frame is a long mark too, and with a grid beside it the grid's count would take it away
    with the lines. Ruling is at most LINE_WIDTH of the image's side across; a stroke that long is broader.
    """
    labels, count = ndimage.label(long)
    if count == 0:
        return labels, 0
    areas = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    lengths = np.array([box[axis].stop - box[axis].start for box in ndimage.find_objects(labels)])
    thin = areas <= LINE_WIDTH * long.shape[axis] * lengths
    renumbered = np.concatenate([[0], np.cumsum(thin) * thin])
    return renumbered[labels], int(thin.sum())


def along(axis: int, length: int) -> list[int]:
    """A (rows, columns) filter size: length along the axis, one pixel across."""
    size = [1, 1]
    size[axis] = length
    return size


def lone_line_is_ruling(strength: np.ndarray, line: np.ndarray, axis: int, writing: float) -> bool:
    """A single long line is ruling (a margin, one ruled line) if it is fainter than the writing's strongest ink
    or runs from edge to edge; a 1 that fills the frame is as strong as the writing and stops short of the edges."""
    spans = np.flatnonzero(line.any(axis=1 - axis))
    return strength[line].max() < FAINT_LINE * writing or spans[-1] - spans[0] + 1 >= EDGE_TO_EDGE * line.shape[axis]


def ruling_angle(ink: np.ndarray) -> float:
    """The slant in degrees that makes ruled lines horizontal (and a margin upright): the rotation under which
    most ink lies on lines running nearly edge to edge. Only such lines count, so bold writing, a shadow or a
    large blob, whose rows or columns also vary, cannot outweigh a faint ruling."""
    small = reduce(ink, PAPER_SIDE)
    return float(max(RULING_ANGLES, key=lambda angle: long_line_ink(turned(small, angle))))


def turned(ink: np.ndarray, angle: float) -> np.ndarray:
    """Float ink turned angle degrees counter-clockwise about its centre, bilinear, the frame kept (as
    ndimage.rotate(ink, angle, reshape=False, order=1), three times as fast)."""
    if not angle:
        return ink
    height, width = ink.shape
    image = Image.fromarray(np.asarray(ink, np.float32), "F")
    return np.asarray(image.rotate(angle, Image.Resampling.BILINEAR, center=(width / 2, height / 2)))


def long_line_ink(ink: np.ndarray) -> float:
    """How much ink lies on straight rows or columns at least RULED_LINE_LENGTH of the image long (an erosion
    along them keeps only such lines; a one-pixel band lets a line step by a row)."""
    total = 0.0
    for axis in (0, 1):
        band = ndimage.maximum_filter1d(ink, 2, axis=1 - axis)
        total += float(ndimage.minimum_filter1d(band, round(RULED_LINE_LENGTH * ink.shape[axis]), axis=axis).sum())
    return total


def drop_specks(ink: np.ndarray) -> np.ndarray:
    """Remove blobs holding under 2 % of the ink (dust, a stray tap), which would stretch the bounding box."""
    components, count = ndimage.label(ink > 0, structure=np.ones((3, 3)))
    if count <= 1:
        return ink
    mass = ndimage.sum(ink, components, index=np.arange(1, count + 1))
    keep = np.concatenate([[False], mass >= SPECK_SHARE * mass.sum()])
    return np.where(keep[components], ink, 0)


def marks(ink: np.ndarray) -> list[dict]:
    """The separate marks of ink (connected pieces), each with its mask slice, bounding box and mass."""
    components, count = ndimage.label(ink > 0, structure=np.ones((3, 3)))
    found = []
    for label, box in enumerate(ndimage.find_objects(components), start=1):
        mask = components[box] == label
        found.append({"box": box, "mask": mask, "mass": float(ink[box][mask].sum())})
    return found


def is_page_edge(mark: dict, shape: tuple[int, int]) -> bool:
    """A mark that runs along most of an image edge is the paper's edge or a shadow, not writing."""
    rows, cols = mark["box"]
    touches_side = rows.start == 0 or rows.stop == shape[0]
    touches_end = cols.start == 0 or cols.stop == shape[1]
    spans_wide = cols.stop - cols.start >= PAGE_EDGE_SPAN * shape[1]
    spans_tall = rows.stop - rows.start >= PAGE_EDGE_SPAN * shape[0]
    return (touches_side and spans_wide) or (touches_end and spans_tall)


def is_border_band(mark: dict, shape: tuple[int, int], tallest: int) -> bool:
    """A flat mark from the picture's border across much of its width, lower than the tallest mark: a ruled line,
    a desk's edge or a shadow under a number, not a digit; the number's digits would all join it as their piece."""
    rows, cols = mark["box"]
    width, height = cols.stop - cols.start, rows.stop - rows.start
    flat = width >= BAND_WIDTH * shape[1] and width >= BAND_FLATNESS * height and height <= BAND_HEIGHT * tallest
    return flat and touches_border(mark["box"], shape)


def select_digit(ink: np.ndarray) -> np.ndarray:
    """Keep the digit and every mark close to it (a 5's flag), not a page edge or a shadow in a corner.

    The digit is the strongest mark clear of the image's border, unless all clear of it are slight: then
    the digit itself was cropped tightly.
    """
    found = writing(ink)
    main = max(found, key=lambda mark: mark["mass"])
    inside = [mark for mark in found if not touches_border(mark["box"], ink.shape)]
    if inside and max(mark["mass"] for mark in inside) >= INSIDE_SHARE * main["mass"]:
        main = max(inside, key=lambda mark: mark["mass"])
    return with_neighbours(main, found, ink)


def writing(ink: np.ndarray) -> list[dict]:
    """The marks that may be writing: all but page edges (all, if nothing else is left)."""
    every_mark = marks(ink)
    found = [mark for mark in every_mark if not is_page_edge(mark, ink.shape)] or every_mark
    if not found:
        raise NoInkError(NO_INK_MESSAGE)
    return found


def with_neighbours(main: dict, found: list[dict], ink: np.ndarray) -> np.ndarray:
    """The ink of the main mark and of every mark within NEAR_DIGIT of it."""
    (top, bottom), (left, right) = ((s.start, s.stop) for s in main["box"])
    reach = NEAR_DIGIT * max(bottom - top, right - left)
    kept = np.zeros(ink.shape, bool)
    for mark in found:
        rows, cols = mark["box"]
        if max(span_gap((top, bottom), (rows.start, rows.stop)), span_gap((left, right), (cols.start, cols.stop))) < reach:
            kept[mark["box"]] |= mark["mask"]
    return np.where(kept, ink, 0)


def other_choices(ink: np.ndarray) -> list[np.ndarray]:
    """Other ways to choose a photo's digit: its ink above a few stronger levels (a shadow or a grid as dark
    as faint writing drops out), and each of the largest marks taken as the digit, with its neighbours."""
    choices = [select_digit(drop_specks(np.where(ink >= level, ink, 0))) for level in STRONGER_INK]
    found = writing(ink)
    largest = sorted(found, key=lambda mark: mark["mass"], reverse=True)[:OTHER_MARKS]
    return choices + [with_neighbours(main, found, ink) for main in largest]


def touches_border(box: tuple[slice, slice], shape: tuple[int, int]) -> bool:
    rows, cols = box
    return rows.start == 0 or cols.start == 0 or rows.stop == shape[0] or cols.stop == shape[1]


def ink_box(ink: np.ndarray) -> tuple[slice, slice]:
    """The rows and columns the ink spans; NoInkError for none."""
    found = ndimage.find_objects((ink > 0).astype(np.int8))
    if not found:
        raise NoInkError(NO_INK_MESSAGE)
    return found[0]


def crop(ink: np.ndarray) -> np.ndarray:
    return ink[ink_box(ink)]


def mnist_field(ink: np.ndarray) -> np.ndarray:
    """Uint8 (28, 28): the ink's bounding box fitted into 20x20 (aspect kept, anti-aliased), centred by mass.

    A dot (is_dot) is fitted into DOT_BOX instead: enlarged to a whole digit it becomes a soft disc that reads
    as 0, while kept small it is a speck, which the model refuses.
    """
    ink = crop(ink)
    scale = (DOT_BOX if is_dot(ink) else DIGIT_BOX) / max(ink.shape)
    size = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
    box = np.asarray(Image.fromarray(ink * MAX_PIXEL).resize(size, Image.Resampling.LANCZOS)).clip(0, MAX_PIXEL)
    ys, xs = np.indices(box.shape)
    total = box.sum()
    if total <= 0:
        raise NoInkError(NO_INK_MESSAGE)
    centre_y, centre_x = (ys * box).sum() / total, (xs * box).sum() / total
    top = min(max(int(round(IMAGE_SIDE / 2 - centre_y)), 0), IMAGE_SIDE - box.shape[0])
    left = min(max(int(round(IMAGE_SIDE / 2 - centre_x)), 0), IMAGE_SIDE - box.shape[1])
    field = np.zeros((IMAGE_SIDE, IMAGE_SIDE), np.float32)
    field[top : top + box.shape[0], left : left + box.shape[1]] = box
    return field.round().astype(np.uint8)


def is_dot(ink: np.ndarray) -> bool:
    """A pen's touch, at whatever size it was photographed: a mark hardly longer than its pen is wide (DOT_LENGTH)
    that holds most of the ink (DOT_INK_SHARE; dust may lie beside it).

    The pen's width is twice the largest distance from ink to paper. Measured in pen widths, not in pixels or in
    shares of the picture, a dot is told from a small digit on a large page, and a digit drawn with a broad
    felt pen (2.0 pen widths and more) is still a digit.
    """
    found = marks(ink)
    largest = max(found, key=lambda mark: mark["mass"])
    if largest["mass"] < DOT_INK_SHARE * sum(mark["mass"] for mark in found):
        return False
    if largest["mask"].mean() < DOT_FILL:  # too little of its box inked to hold a disc that wide (a digit's strokes)
        return False
    pen = 2 * ndimage.distance_transform_edt(np.pad(largest["mask"], 1)).max()
    return max(largest["mask"].shape) < DOT_LENGTH * pen


def to_mnist(image, judge=None) -> np.ndarray:
    """Uint8 (28, 28) MNIST-style digit from any drawing or image; NoInkError when there is no ink.

    judge, a function from (N, 28, 28) images to how surely each is one digit (as for to_mnist_sequence), lets
    the model settle a photo whose digit the shapes alone chose badly (a shadow or grid taken for part of it):
    below UNSURE, the other choices clear of the picture's border are judged too, and the surest wins if it is SURE.
    """
    ink = ink_map(image)
    digit = mnist_field(select_digit(ink))
    if judge is None or not is_photo(image) or judge(digit[None])[0] >= UNSURE:
        return digit
    choices = [choice for choice in other_choices(ink) + page_choices(image) if not reaches_border(choice)]
    if not choices:
        return digit
    others = np.stack([mnist_field(choice) for choice in choices])
    sureness = judge(others)
    return others[sureness.argmax()] if sureness.max() >= SURE else digit


def page_choices(image) -> list[np.ndarray]:
    """The digit chosen again on the page alone (page_crop), when the photo shows one lying on a desk."""
    page = page_crop(image)
    if page is None:
        return []
    try:
        ink = ink_map(page)
    except NoInkError:
        return []
    return [select_digit(ink), *other_choices(ink)]


def page_crop(image) -> np.ndarray | None:
    """The page alone, when the photo shows a card or a page lying on a desk, else None.

    Around such a page the desk is a dark border, and a desk over half the frame even passes for the paper,
    with the page as light ink. The page is the largest region lighter than Otsu's level, its holes (the
    writing, a shadow's core) filled; cropped to it, PAGE_INSET inside its edge, the paper fills the picture
    again and its ruled lines run from edge to edge.
    """
    gray = reduce(gray_and_alpha(image)[0], PAPER_SIDE)
    light = ndimage.binary_fill_holes(gray > otsu_level(gray))
    page = max(marks(light.astype(np.float32)), key=lambda mark: mark["mass"], default=None)
    if page is None or not is_page(page, gray):
        return None
    (top, bottom), (left, right) = (
        (round(span.start / size * full), round(span.stop / size * full))
        for span, size, full in zip(page["box"], light.shape, np.shape(image)[:2])
    )
    inset_rows, inset_cols = round(PAGE_INSET * (bottom - top)), round(PAGE_INSET * (right - left))
    return np.asarray(image)[top + inset_rows : bottom - inset_rows, left + inset_cols : right - inset_cols]


def otsu_level(gray: np.ndarray) -> float:
    """The grey level that best splits the picture into a darker and a lighter part (Otsu's threshold)."""
    counts, edges = np.histogram(gray, bins=64)
    share = np.cumsum(counts) / counts.sum()
    mean = np.cumsum(counts * edges[:-1]) / counts.sum()
    between = (mean[-1] * share - mean) ** 2 / np.maximum(share * (1 - share), 1e-12)
    return float(edges[1:][np.argmax(between[:-1])])


def is_page(mark: dict, gray: np.ndarray) -> bool:
    """A light mark that is a page on a desk: at least PAGE_SIDE of the frame each way, solid, with the desk all
    round it (not a lit part of a page that fills the frame) and darker than DESK_SHADE of it (not paper between
    a number's strokes)."""
    rows, cols = mark["box"]
    spans = np.array([rows.stop - rows.start, cols.stop - cols.start]) / np.array(gray.shape)
    if spans.min() < PAGE_SIDE or mark["mask"].mean() < PAGE_FILL or touches_border(mark["box"], gray.shape):
        return False
    outside = np.ones(gray.shape, bool)
    outside[mark["box"]] = False
    return bool(np.median(gray[outside]) < DESK_SHADE * np.median(gray[mark["box"]][mark["mask"]]))


def reaches_border(ink: np.ndarray) -> bool:
    """Ink at the picture's border: a margin, the page's edge or a stub of either, not a digit chosen again.

    A short stub of a margin line cut off by the frame reads as a sure 1, and once a dot on the page is
    refused the model would choose it instead.
    """
    return touches_border(ink_box(ink), ink.shape)


def is_photo(image) -> bool:
    """A photo or scan: larger than a cut-out digit, with no transparency saying where the strokes are (a canvas)."""
    array = np.asarray(image)
    return not has_stroke_layer(array) and min(array.shape[:2]) > SMALL_IMAGE_SIDE


class Piece(NamedTuple):
    """Ink of one digit or part of one, cropped, and where its top-left corner was in the picture."""

    ink: np.ndarray
    top: int
    left: int

    @property
    def right(self) -> int:
        return self.left + self.ink.shape[1]

    @property
    def bottom(self) -> int:
        return self.top + self.ink.shape[0]


def to_mnist_sequence(image, judge=None) -> np.ndarray:
    """Uint8 (K, 28, 28): the digits of a number, left to right, each made the MNIST way.

    Marks close above or below one another are one digit (a 5's flag over its body, a 4 drawn in two strokes); a
    small fragment joins its nearest neighbour or, far from any, is dropped (a speck, a piece of a ruled line);
    a piece much wider than the number's other digits holds touching digits and is cut where its ink is thinnest.
    judge, a function from (N, 28, 28) images to how surely each is one digit, lets the model settle what the
    shapes leave open (surest_reading); without it, the width alone decides. A photo whose digits it is unsure
    of is read again on its page alone (page_crop), and the reading whose least sure digit is surer is kept.
    """
    digits = number_digits(image, judge)
    if judge is None or not is_photo(image):
        return digits
    least_sure = judge(digits).min()
    page = None if least_sure >= UNSURE else page_crop(image)
    if page is None:
        return digits
    try:
        on_page = number_digits(page, judge)
    except NoInkError:
        return digits
    return on_page if judge(on_page).min() > least_sure else digits


def number_digits(image, judge=None) -> np.ndarray:
    """The digits of the number in the picture as it is (to_mnist_sequence without the second look at its page)."""
    ink = ink_map(image)
    found = [mark for mark in marks(ink) if not is_page_edge(mark, ink.shape)]
    tallest = max((mark["box"][0].stop - mark["box"][0].start for mark in found), default=0)
    pieces = digit_pieces([mark for mark in found if not is_border_band(mark, ink.shape, tallest)], ink)
    if not pieces:
        raise NoInkError(NO_INK_MESSAGE)
    height = float(np.median([piece.ink.shape[0] for piece in pieces]))
    pieces = absorb_fragments(pieces, height)
    width = typical_width(pieces, height)
    if judge is not None:
        return surest_reading(pieces, width, height, judge)
    return np.concatenate([fields(cut(piece.ink, digits_in(piece.ink.shape[1] / width))) for piece in pieces])


def surest_reading(pieces: list[Piece], digit_width: float, height: float, judge) -> np.ndarray:
    """Uint8 (K, 28, 28): the pieces grouped and cut into the digits the judge is surest of.

    Neighbouring pieces may be one digit (a broken stroke), and a piece one digit or several touching ones.
    Each grouping of up to MAX_GROUP neighbours may be cut at its columns of least ink (cut_columns); every
    part that choice allows (part_spans) is judged, all in one batch, and the reading with the largest sum of
    log-sureness over its digits, less CUT_COST a cut and LOW_PART_COST a part much lower than the number (height,
    the pieces' median), wins (best_path within a group, then the same dynamic programming over the pieces).
    Cutting where the model reads each part best, not at even widths, splits digits narrower than the guess, or
    leaning over one another, as a font's do.
    A merged pair of digits reads unsure, a digit cut in two gives two unsure parts; what is no digit either
    way costs SURENESS_FLOOR a mark, so it is not cut into more marks, and a piece left whole counts as the
    marks its width holds (five touching digits are not one "?"). A piece left whole also costs CUT_COST for
    each cut its width calls for, as a cut costs it, so the width weighs both ways: a 6 touching an 8, read as
    one digit surer than as two, is still two. A piece one digit wide, when the number's other pieces say how
    wide a digit is, is cut only if each part reads at least CUT_SURENESS (a cross is not two digits read a
    third sure; two touching digits are as wide as two).
    Then marks at either end that are noise go (noise_marks): a stretch of ruled line or a shadow's edge beside
    the number or touching it, a mark far away, a shadow (in the middle, such a mark stays, and the number shows it).
    """
    groups = {}  # (first piece, last piece + 1) -> the group's ink
    for first in range(len(pieces)):
        group = pieces[first]
        for stop in range(first + 1, min(first + MAX_GROUP, len(pieces)) + 1):
            if stop > first + 1:
                if gap_between(group, pieces[stop - 1]) > GROUP_GAP * digit_width:
                    break
                group = merged(group, pieces[stop - 1])
            groups[first, stop] = group.ink
    columns = {key: cut_columns(ink, digit_width) for key, ink in groups.items()}
    spans = [
        (key, start, end)
        for key, cuts in columns.items()
        for start, end in part_spans(cuts, digit_width, groups[key].shape[1])
        if groups[key][:, start:end].any()
    ]
    boxes = [ink_box(groups[key][:, start:end]) for key, start, end in spans]  # each part's ink, within its span
    parts = [groups[key][:, start:end][box] for (key, start, end), box in zip(spans, boxes)]
    images = fields(parts)
    sureness = judge(images)
    judged = dict(zip(spans, sureness))
    digits_wide = {key: digits_in(ink.shape[1] / digit_width) for key, ink in groups.items()}

    def log_sure(span, sure, part):
        key, start, end = span
        whole = (start, end) == (0, groups[key].shape[1])
        unconvincing_cut = not whole and len(pieces) > 1 and digits_wide[key] == 1 and sure < CUT_SURENESS
        marks = digits_wide[key] if whole else 1  # left whole: as many marks as it is wide, and the cuts between not made
        low = LOW_PART_COST if part.shape[0] < LOW_PART * height else 0.0
        floor = marks * float(np.log(SURENESS_FLOOR))  # in logs: SURENESS_FLOOR ** marks is 0.0 past 161 marks
        believed = floor if unconvincing_cut or sure <= 0 else max(float(np.log(sure)), floor)
        return believed - low - CUT_COST * (marks - 1)

    log_sureness = {span: log_sure(span, sure, part) for span, sure, part in zip(spans, sureness, parts)}
    readings = {key: best_path(columns[key], lambda start, end, key=key: log_sureness.get((key, start, end))) for key in groups}
    best, choice = [0.0] + [-np.inf] * len(pieces), [None] * (len(pieces) + 1)
    for (first, stop), (score, _) in sorted(readings.items(), key=lambda item: item[0][1]):
        if best[first] + score > best[stop]:
            best[stop], choice[stop] = best[first] + score, (first, stop)
    chosen, stop = [], len(pieces)
    while stop:
        key = choice[stop]
        chosen = [(key, start, end) for start, end in readings[key][1]] + chosen
        stop = key[0]
    index = {span: position for position, span in enumerate(spans)}
    columns_inked = [boxes[index[span]][1] for span in chosen]
    offsets = np.array([pieces[key[0]].left + start for key, start, _ in chosen])  # each span's, in the picture
    extents = np.array([(cols.start, cols.stop) for cols in columns_inked]) + offsets[:, None]
    heights = np.array([parts[index[span]].shape[0] for span in chosen])
    noise = noise_marks(heights, np.array([judged[span] for span in chosen]), extents, digit_width)
    digits = np.flatnonzero(~noise)
    kept = slice(digits[0], digits[-1] + 1) if len(digits) else slice(None)  # noise goes at the ends only
    return images[[index[span] for span in chosen]][kept]


def noise_marks(heights: np.ndarray, sureness: np.ndarray, extents: np.ndarray, digit_width: float) -> np.ndarray:
    """Bool (K,): which of a number's marks, left to right (their heights, the judge's sureness, their first and
    after-last columns), are no digit of it when at its end.

    A low mark the judge finds unlike any digit (a stretch of ruled line, a shadow's edge); an unsure one over
    FAR_GAP digit widths from the other marks (something else on the page); one over OUTLIER_HEIGHT times as
    tall as the marks (a shadow across squared paper, read as a sure 1).
    """
    unsure = sureness < NOISE_SURENESS
    low = (heights < NOISE_HEIGHT * heights.max()) & unsure
    standing = np.flatnonzero(~low)
    gaps = np.concatenate([[np.inf], extents[standing[1:], 0] - extents[standing[:-1], 1], [np.inf]])
    far = np.zeros(len(heights), bool)
    far[standing] = np.minimum(gaps[:-1], gaps[1:]) > FAR_GAP * digit_width
    tall = heights > OUTLIER_HEIGHT * np.median(heights[standing])  # the tallest mark is never low: never empty
    return low | (far & unsure) | tall


def cut_columns(ink: np.ndarray, digit_width: float) -> list[int]:
    """Where a group of pieces may be cut between touching digits: its ends and the columns of locally least ink,
    the least of any within MIN_CUT_SPACING digit widths of one another, at most MAX_CUTS."""
    width = ink.shape[1]
    profile = ndimage.uniform_filter1d(ink.sum(axis=0), size=3)
    inner = np.arange(1, width - 1)
    minima = inner[(profile[inner] <= profile[inner - 1]) & (profile[inner] <= profile[inner + 1])]
    kept: list[int] = []
    for column in minima[np.argsort(profile[minima], kind="stable")]:
        if len(kept) < MAX_CUTS and all(abs(column - other) >= MIN_CUT_SPACING * digit_width for other in [0, width, *kept]):
            kept.append(int(column))
    return [0, *sorted(kept), width]


def part_spans(cuts: list[int], digit_width: float, width: int) -> list[tuple[int, int]]:
    """The (start, end) columns of every part a digit may be: the whole group, and any stretch between two cut
    columns at most MAX_PART digit widths wide."""
    return [
        (start, end)
        for position, start in enumerate(cuts)
        for end in cuts[position + 1 :]
        if end - start <= MAX_PART * digit_width or (start, end) == (0, width)
    ]


def best_path(cuts: list[int], log_sureness) -> tuple[float, list[tuple[int, int]]]:
    """The parts, left to right between the cut columns, whose summed log_sureness(start, end) less CUT_COST
    a cut is largest (log_sureness is None for a part not considered), and that sum."""
    best = {cuts[0]: (0.0, [])}
    for end in cuts[1:]:
        options = [
            (best[start][0] + score - (CUT_COST if start else 0.0), best[start][1] + [(start, end)])
            for start in cuts
            if start < end and start in best and (score := log_sureness(start, end)) is not None
        ]
        if options:
            best[end] = max(options, key=lambda option: option[0])
    return best[cuts[-1]]


def fields(parts: list[np.ndarray]) -> np.ndarray:
    return np.stack([mnist_field(part) for part in parts])


def digits_in(ratio: float) -> int:
    """How many digits a piece `ratio` digit-widths wide holds, by width alone: 1.7 is two touching digits, 1.6 one broad one."""
    return max(int(ratio + SPLIT_SLACK), 1)


def digit_pieces(found: list[dict], ink: np.ndarray) -> list[Piece]:
    """The ink of each digit, left to right: a mark whose middle lies within the previous piece's span joins it,
    if it is also within NEAR_DIGIT of it up or down (a 5's flag; not a stretch of ruled line far above or below)."""
    groups: list[list[dict]] = []
    right = 0
    for mark in sorted(found, key=lambda mark: mark["box"][1].start):
        cols = mark["box"][1]
        if groups and (cols.start + cols.stop) / 2 <= right and vertically_near(mark["box"][0], groups[-1]):
            groups[-1].append(mark)
        else:
            groups.append([mark])
        right = max(right, cols.stop) if len(groups[-1]) > 1 else cols.stop
    return [cropped_piece(group, ink) for group in groups]


def vertically_near(rows: slice, group: list[dict]) -> bool:
    """Whether rows lie no further above or below the group's rows than NEAR_DIGIT of the taller one's height."""
    top, bottom = min(mark["box"][0].start for mark in group), max(mark["box"][0].stop for mark in group)
    return span_gap((top, bottom), (rows.start, rows.stop)) <= NEAR_DIGIT * max(bottom - top, rows.stop - rows.start)


def cropped_piece(group: list[dict], ink: np.ndarray) -> Piece:
    canvas = np.zeros(ink.shape, np.float32)
    for mark in group:
        canvas[mark["box"]] += np.where(mark["mask"], ink[mark["box"]], 0)
    rows, cols = ink_box(canvas)
    return Piece(canvas[rows, cols], rows.start, cols.start)


def absorb_fragments(pieces: list[Piece], height: float) -> list[Piece]:
    """Pieces much lower than the number's digits join the nearest piece when close to it, across and up or down,
    else are dropped."""
    whole = [piece for piece in pieces if piece.ink.shape[0] >= FRAGMENT_HEIGHT * height]
    for fragment in (piece for piece in pieces if piece.ink.shape[0] < FRAGMENT_HEIGHT * height):
        gaps = [max(gap_between(fragment, piece), gap_above_or_below(fragment, piece)) for piece in whole]
        if gaps and min(gaps) <= FRAGMENT_REACH * height:
            nearest = int(np.argmin(gaps))
            whole[nearest] = merged(whole[nearest], fragment)
    return sorted(whole, key=lambda piece: piece.left)


def gap_between(a: Piece, b: Piece) -> int:
    return span_gap((a.left, a.right), (b.left, b.right))


def gap_above_or_below(a: Piece, b: Piece) -> int:
    return span_gap((a.top, a.bottom), (b.top, b.bottom))


def span_gap(a: tuple[int, int], b: tuple[int, int]) -> int:
    """Pixels between two (start, stop) spans of rows or columns, 0 where they overlap."""
    return max(b[0] - a[1], a[0] - b[1], 0)


def merged(a: Piece, b: Piece) -> Piece:
    """Two pieces in one, each where it was drawn."""
    top, left = min(a.top, b.top), min(a.left, b.left)
    bottom = max(a.top + a.ink.shape[0], b.top + b.ink.shape[0])
    out = np.zeros((bottom - top, max(a.right, b.right) - left), np.float32)
    for piece in (a, b):
        out[piece.top - top : piece.top - top + piece.ink.shape[0], piece.left - left : piece.right - left] += piece.ink
    return Piece(out, top, left)


def typical_width(pieces: list[Piece], height: float) -> float:
    """The width of one digit in this number: the median of pieces shaped like one digit (not a 1, not a pair)."""
    widths = [piece.ink.shape[1] for piece in pieces if NARROW_DIGIT * height <= piece.ink.shape[1] <= height]
    return float(np.median(widths)) if widths else DIGIT_ASPECT * height


def cut(piece: np.ndarray, count: int) -> list[np.ndarray]:
    """The piece cut into count parts, each cut at the column of least ink near where an even split would fall."""
    width = piece.shape[1]
    if count <= 1:
        return [piece]
    profile = ndimage.uniform_filter1d(piece.sum(axis=0), size=3)
    cuts, step = [0], width / count
    for index in range(1, count):
        low, high = int((index - 0.3) * step), int((index + 0.3) * step)
        cuts.append(low + int(np.argmin(profile[low:high])))
    cuts.append(width)
    return [part for part in (piece[:, start:stop] for start, stop in zip(cuts, cuts[1:])) if part.any()]
