import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage

from digitlens import preprocess, reading
from digitlens.preprocess import ImageError, NoInkError, read_image, to_mnist, to_mnist_sequence
from digitlens.strokes import DIGIT_STROKES, draw, random_drawing
from photos import drawn_ink, jpeg_bytes, paper_photo
from shapes import sixteen_bit


def centre_of_mass(image):
    ys, xs = np.indices(image.shape)
    total = image.sum()
    return (ys * image).sum() / total, (xs * image).sum() / total


def ink_box(image):
    rows, cols = np.nonzero(image > 30)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


def test_output_is_uint8_28x28_with_bright_strokes():
    digit = to_mnist(draw(3))
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    assert digit.max() >= 250 and digit[0].max() == 0 and digit[:, 0].max() == 0


@pytest.mark.parametrize("box", [(0.0, 0.0, 0.35, 0.4), (0.6, 0.55, 1.0, 1.0), (0.1, 0.6, 0.5, 0.95)])
def test_off_centre_drawing_is_centred_by_mass(box):
    digit = to_mnist(draw(2, box=box, width=12))
    row, col = centre_of_mass(digit.astype(float))
    assert abs(row - 14) <= 0.75 and abs(col - 14) <= 0.75


@pytest.mark.parametrize("box", [(0.45, 0.45, 0.55, 0.57), (0.0, 0.0, 1.0, 1.0)])
def test_tiny_and_huge_ink_fill_the_20_pixel_box(box):
    height, _ = ink_box(to_mnist(draw(7, box=box, width=4 if box[2] - box[0] < 0.5 else 18)))
    assert 19 <= height <= 21


def test_aspect_ratio_is_kept():
    height, width = ink_box(to_mnist(draw(1, box=(0.3, 0.1, 0.7, 0.9))))
    assert height >= 19 and width <= 9


def test_dark_on_light_equals_light_on_dark():
    light_on_dark = to_mnist(draw(5, rgba=False))
    dark_on_light = to_mnist(draw(5, rgba=False, dark_on_light=True))
    assert np.abs(light_on_dark.astype(int) - dark_on_light.astype(int)).max() <= 1


def test_canvas_rgba_equals_grayscale():
    """The same strokes from the canvas (alpha) and from a grayscale file (lightly smoothed as a photo) agree."""
    assert np.abs(to_mnist(draw(8)).astype(int) - to_mnist(draw(8, rgba=False)).astype(int)).mean() < 6


def test_strokes_keep_the_width_they_were_drawn_with():
    """The model learnt every pen from hairline to marker: preprocessing must not thin or thicken strokes."""
    thin, thick = (to_mnist(draw(4, width=pen)) for pen in (6, 40))
    assert (thick > 127).sum() > 1.8 * (thin > 127).sum()


def test_mnist_digit_stays_close_to_itself(test_set):
    images, _ = test_set
    again = to_mnist(images[0])
    assert np.abs(again.astype(int) - images[0].astype(int)).mean() < 20


@pytest.mark.parametrize(
    "image",
    [np.zeros((280, 280, 4), np.uint8), np.full((50, 50), 255, np.uint8), np.full((20, 30, 3), 90, np.uint8)],
    ids=["empty canvas", "white paper", "flat grey"],
)
def test_blank_image_raises_no_ink(image):
    with pytest.raises(NoInkError, match="draw or upload a digit"):
        to_mnist(image)


def test_dust_far_from_the_digit_is_ignored():
    clean = draw(9, rgba=False, box=(0.3, 0.2, 0.7, 0.8))
    dusty = clean.copy()
    dusty[270:273, 5:8] = 255
    assert np.abs(to_mnist(dusty).astype(int) - to_mnist(clean).astype(int)).max() <= 1


def test_wrong_array_shape_is_a_value_error():
    with pytest.raises(ValueError, match="expected an image array"):
        to_mnist(np.zeros((4, 4, 4, 4)))


def test_read_image_decodes_png_and_jpeg(tmp_path):
    for fmt in ("PNG", "JPEG"):
        buffer = io.BytesIO()
        Image.fromarray(draw(6, rgba=False, dark_on_light=True)).save(buffer, format=fmt)
        array = read_image(buffer.getvalue())
        assert array.shape[:2] == (280, 280)
        assert to_mnist(array).max() > 200


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_a_16_bit_scan_reads_as_its_8_bit_twin(fmt):
    """Scanners save 16-bit greyscale; Pillow's convert clips those levels to white, which read as a blank page."""
    eight_bit = 60 + draw(6, rgba=False, dark_on_light=True).astype(np.uint16) * 140 // 255  # grey ink on grey paper
    assert np.abs(to_mnist(read_image(sixteen_bit(eight_bit, fmt))).astype(int) - to_mnist(eight_bit).astype(int)).max() <= 1


def test_read_image_names_a_broken_file(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is not an image")
    with pytest.raises(ImageError, match="notes.png: not a readable image"):
        read_image(path)


def test_random_drawings_are_read_right(predictor):
    """Digits drawn at random sizes, places, slants and pen widths, in both polarities."""
    rng = np.random.default_rng(7)
    drawings = [random_drawing(rng) for _ in range(300)]
    images = np.stack([to_mnist(image) for image, _ in drawings])
    labels = np.array([digit for _, digit in drawings])
    assert (predictor.predict(images) == labels).mean() >= 0.97


# --- Photos of paper ---


@pytest.mark.parametrize(
    "conditions",
    [
        {"light_gradient": 0.5},
        {"shadow_corner": True},
        {"ruled_every": 40},
        {"ruled_every": 40, "shadow_corner": True, "ink_colour": (110, 110, 110)},
        {"ruled_every": 40, "broad_shadow": 0.5},
    ],
    ids=["light gradient", "shadow over a corner", "ruled paper", "pencil on ruled paper in shadow", "a hand's shadow over most of the page"],
)
def test_photo_of_paper_gives_the_same_digit_as_the_clean_drawing(conditions):
    clean = to_mnist(drawn_ink(5) * 255)
    photo = to_mnist(paper_photo(drawn_ink(5), **conditions))
    assert np.abs(photo.astype(int) - clean.astype(int)).mean() < 12
    assert ink_box(photo) == pytest.approx(ink_box(clean), abs=2)


def test_shadow_is_not_taken_for_ink():
    photo = paper_photo(drawn_ink(1, box=(0.2, 0.2, 0.45, 0.6)), shadow_corner=True, light_gradient=0.4)
    digit = to_mnist(photo)
    _, width = ink_box(digit)
    assert width <= 12  # a 1, not a 1 joined to a blob in the corner


def disc(radius: float, size: int = 80, centre=(40, 40)) -> np.ndarray:
    ys, xs = np.mgrid[0:size, 0:size]
    return (((ys - centre[0]) ** 2 + (xs - centre[1]) ** 2) <= radius**2).astype(np.float32)


def dot_on_a_page(radius: float, size: int = 600) -> np.ndarray:
    return ndimage.gaussian_filter(disc(radius, size, centre=(0.4 * size, 0.55 * size)).astype(float), 1.5)


def test_a_dot_on_a_photographed_page_stays_a_dot_and_is_not_a_digit(predictor):
    seen = reading.mnist_images(paper_photo(dot_on_a_page(radius=6)), predictor=predictor)
    assert max(ink_box(seen[0])) <= 6  # not blown up into a soft disc that reads as 0
    assert not reading.read(predictor, seen).is_digit[0]


def test_a_stub_of_a_margin_at_the_border_is_not_chosen_as_the_digit_beside_a_dot(predictor):
    page = dot_on_a_page(radius=6)
    page[560:, 40:43] = 1  # the end of a margin line, cut off by the frame
    seen = reading.mnist_images(paper_photo(page), predictor=predictor)
    assert not reading.read(predictor, seen).is_digit[0]


@pytest.mark.parametrize("share", [0.1, 0.04])
def test_a_small_digit_on_a_large_page_is_enlarged_to_a_whole_digit(share):
    page = drawn_ink(4, size=500, box=(0.5, 0.5, 0.5 + share, 0.5 + share), width=2)
    height, _ = ink_box(to_mnist(paper_photo(page)))
    assert height >= 18  # the frame says nothing of a mark's size: a digit may be small on a large page


def test_a_pen_touch_is_a_dot_with_or_without_dust_beside_it():
    assert preprocess.is_dot(disc(10))
    assert preprocess.is_dot(disc(10) + disc(2, centre=(20, 70)))
    assert not preprocess.is_dot(disc(10) + disc(8, centre=(20, 70)))  # two dots side by side are not one


@pytest.mark.parametrize("digit", [0, 1, 4, 8])
def test_a_digit_drawn_with_a_broad_felt_pen_is_not_a_dot(digit):
    ink = drawn_ink(digit, size=200, box=(0.3, 0.2, 0.6, 0.8), width=30)
    assert not preprocess.is_dot(preprocess.crop(ink))


def test_no_mnist_test_digit_is_taken_for_a_dot(test_set):
    images, _ = test_set
    assert not any(preprocess.is_dot(preprocess.crop(preprocess.ink_map(image))) for image in images)


def test_page_edge_against_a_dark_table_is_not_the_digit():
    page = drawn_ink(7, size=300, box=(0.35, 0.3, 0.65, 0.7))
    photo = paper_photo(page)
    photo[:, 250:] = 40  # the table beyond the page's right edge
    clean = to_mnist(page * 255)
    assert np.abs(to_mnist(photo).astype(int) - clean.astype(int)).mean() < 12


def test_a_12_megapixel_jpeg_is_decoded_at_an_eighth_not_a_quarter():
    assert read_image(jpeg_bytes(np.full((3000, 4000), 230, np.uint8))).shape[:2] == (375, 500)


def test_a_large_jpeg_is_decoded_reduced_and_reads_like_a_small_one():
    page = drawn_ink(3, size=3000, box=(0.35, 0.3, 0.6, 0.7), width=90)
    big = read_image(jpeg_bytes(paper_photo(page)))
    assert max(big.shape[:2]) <= 512
    small = to_mnist(drawn_ink(3, size=500, box=(0.35, 0.3, 0.6, 0.7), width=15) * 255)
    assert np.abs(to_mnist(big).astype(int) - small.astype(int)).mean() < 12


def test_photo_taken_sideways_is_turned_upright_by_its_exif_tag():
    image = Image.fromarray(paper_photo(drawn_ink(7, size=300)))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the camera was turned; viewers rotate the picture 90 degrees clockwise
    buffer = io.BytesIO()
    image.rotate(90, expand=True).save(buffer, format="JPEG", exif=exif)
    upright = read_image(buffer.getvalue())
    assert np.abs(to_mnist(upright).astype(int) - to_mnist(np.asarray(image)).astype(int)).mean() < 12


# --- Numbers ---


def number_drawing(digits, size=(700, 280), pen=16, gap=30, aspect=0.65):
    """RGBA canvas with the digits' strokes side by side (gap pixels apart, negative to touch), like the wide canvas."""
    width, height = size
    digit_height = 0.7 * height
    digit_width = aspect * digit_height
    left = (width - len(digits) * digit_width - (len(digits) - 1) * gap) / 2
    canvas = np.zeros((height, width, 4), np.uint8)
    for index, digit in enumerate(digits):
        x = left + index * (digit_width + gap)
        box = (x / width, 0.15 * height / width, (x + digit_width) / width, 0.85 * height / width)
        canvas = np.maximum(canvas, draw(digit, size=width, box=box, width=pen)[:height])
    return canvas


@pytest.mark.parametrize("number", [[4, 2], [1, 9, 7], [2, 0, 2, 6], [5, 5, 3, 8, 1]], ids=lambda n: "".join(map(str, n)))
def test_number_is_read_digit_by_digit_left_to_right(predictor, number):
    digits = to_mnist_sequence(number_drawing(number))
    assert digits.shape == (len(number), 28, 28)
    assert list(predictor.predict(digits)) == number


def test_strokes_of_one_digit_that_do_not_touch_stay_together(predictor):
    """A 5 whose flag was drawn as a separate stroke is one digit, alone and in a number."""
    five_with_lifted_flag = [[(0.32, 0.1), (0.28, 0.46)] + DIGIT_STROKES[5][0][3:], [(0.45, 0.1), (0.8, 0.1)]]
    assert list(predictor.predict(to_mnist_sequence(draw(five_with_lifted_flag, width=16)))) == [5]
    fifty_seven = number_drawing([0, 7])
    fifty_seven[:, :350] = draw(five_with_lifted_flag, size=350, box=(0.1, 0.05, 0.9, 0.75), width=16)[:280]
    assert list(predictor.predict(to_mnist_sequence(fifty_seven))) == [5, 7]


def test_a_stretch_of_line_far_above_a_digit_is_not_part_of_it(predictor):
    """A stub of ruled line at the top of a photo, over the first digit's columns, is dropped, not joined to the
    digit into one piece taller than the number (which was then dropped as a shadow: "5068" read "068")."""
    page = np.zeros((600, 700, 4), np.uint8)
    page[320:] = number_drawing([5, 0, 6, 8])
    page[:6, :200] = 255
    digits = reading.mnist_images(page, number=True, predictor=predictor)
    assert list(predictor.predict(digits)) == [5, 0, 6, 8]


def test_touching_digits_are_split(predictor):
    touching = number_drawing([0, 0], gap=-12)
    assert list(predictor.predict(to_mnist_sequence(touching))) == [0, 0]


@pytest.mark.parametrize("number", [[7, 2, 8], [3, 0, 1], [1, 3, 6, 0]], ids=lambda n: "".join(map(str, n)))
def test_narrow_digits_overlapping_in_one_piece_are_cut_where_the_model_reads_each(predictor, number):
    """Digits narrower than the usual guess and overlapping, like a font's: one piece, cut at the right columns."""
    overlapping = number_drawing(number, gap=-30, aspect=0.45)
    digits = reading.mnist_images(overlapping, number=True, predictor=predictor)
    assert list(predictor.predict(digits)) == number


def test_number_on_ruled_paper(predictor):
    ink = number_drawing([3, 8], size=(600, 300))[..., 3] / 255
    assert list(predictor.predict(to_mnist_sequence(paper_photo(ink, ruled_every=45, shadow_corner=True)))) == [3, 8]


def test_one_ruled_line_fainter_than_the_writing_goes_even_short_of_the_edges():
    """A lone long line is ruling when it is fainter than the writing's strongest ink (it was compared with the
    long lines alone, that is with itself, so a line stopping short of the edges stayed and joined the digits)."""
    page = Image.new("F", (512, 256), 0.0)
    pen = ImageDraw.Draw(page)
    pen.line([(30, 128), (478, 128)], fill=0.25, width=3)  # 87 % of the width: long, not edge to edge
    for x in (120, 260, 380):
        pen.line([(x, 60), (x, 200)], fill=1.0, width=20)  # three bold, short strokes: 1s
    cleaned = preprocess.remove_ruled_lines(np.asarray(page))
    assert cleaned[126:131, 60:100].max() < 0.05  # the line is gone between the strokes
    assert cleaned[100:160, 115:125].min() > 0.5  # the strokes stay where it crossed them


def ruled_page(slant=0.0, size=(512, 384), every=48, strength=0.3, squared=False):
    """Float ink of an empty ruled page: faint lines every `every` pixels, turned by slant degrees; squared, the
    upright lines too."""
    page = Image.new("F", size, 0.0)
    pen = ImageDraw.Draw(page)
    rise = size[0] * np.tan(np.radians(slant))
    for y in range(-every * 2, size[1] + every * 2, every):
        pen.line([(0, y), (size[0], y + rise)], fill=strength, width=2)
    if squared:
        run = size[1] * np.tan(np.radians(slant))
        for x in range(-every * 2, size[0] + every * 2, every):
            pen.line([(x, 0), (x - run, size[1])], fill=strength, width=2)
    return page


def test_the_page_slant_comes_from_the_ruled_lines_not_from_bold_writing():
    """A bold, broad digit slanting another way varies the rows more than faint lines do; only the lines, which
    run from edge to edge, tell the page's slant. Measured by row variance, the slant was the digit's, the
    lines were not found, and a line through a digit was read as part of it."""
    page = ruled_page(slant=4)
    pen = ImageDraw.Draw(page)
    pen.line([(150, 120), (330, 180)], fill=1.0, width=60)  # a fat felt-pen stroke, 18 degrees the other way
    pen.line([(170, 250), (300, 300)], fill=1.0, width=60)
    level = preprocess.ruling_angle(np.asarray(page))
    lines_alone = preprocess.ruling_angle(np.asarray(ruled_page(slant=4)))
    assert level == lines_alone


@pytest.mark.parametrize("angle", [-8, -3, 5])
def test_turning_is_scipys_bilinear_rotation_inside_the_frame(angle):
    """turned (Pillow, three times as fast) must turn the same way and as far as ndimage.rotate did, or ruled
    lines found at one slant are taken away at another."""
    page = np.asarray(ruled_page(slant=2, size=(200, 150)))
    inside = (slice(12, -12), slice(12, -12))
    expected = ndimage.rotate(page, angle, reshape=False, order=1)
    assert np.abs(preprocess.turned(page, angle) - expected)[inside].max() < 1e-4


def test_a_slanted_ruled_page_is_left_empty():
    page = np.asarray(ruled_page(slant=-5))
    assert preprocess.ruling_angle(page) == -5
    assert preprocess.remove_ruled_lines(page)[40:-40, 40:-40].max() < preprocess.INK_THRESHOLD


def test_a_broad_stroke_lying_across_a_ruled_line_is_not_cut_in_two():
    """A felt-pen blob wider than the stretch over which a line's strength is measured: there the line looked as
    strong as the blob, and taking the line away cut the blob along it."""
    page = ruled_page(every=64)
    ImageDraw.Draw(page).ellipse((130, 100, 380, 290), fill=1.0)  # 250 px wide, across the lines at 128, 192 and 256
    cleaned = preprocess.remove_ruled_lines(np.asarray(page))
    assert cleaned[110:280, 250].min() > preprocess.INK_THRESHOLD  # still ink down its middle, across every line
    assert cleaned[60:70, 20:100].max() < 0.05  # the lines are gone off the blob


def test_a_broad_stroke_filling_the_frame_on_squared_paper_is_not_ruling():
    """A felt-pen 1 photographed close up runs nearly edge to edge, like the grid's lines: counted among them, it
    was taken away with them and what stayed read as a dot or two stripes."""
    page = ruled_page(every=48, squared=True)
    ImageDraw.Draw(page).line([(250, 10), (250, 374)], fill=1.0, width=70)  # 70 px broad, 95 % of the height
    cleaned = preprocess.remove_ruled_lines(np.asarray(page))
    assert cleaned[20:364, 220:280].min() > 0.5  # the stroke stays whole, across every line
    assert cleaned[20:364, 100:170].max() < 0.05  # the grid is gone beside it


def test_a_felt_pen_blob_wider_than_the_sharp_paper_window_is_ink_on_squared_paper():
    """The sharp paper estimate closes over nothing this broad, so the blob had no sharp stroke to grow from, and
    the grid's lines, the strongest sharp ink, were all that was left: the 1 read as a piece of grid. Its crisp
    edge now seeds it, as a shadow's soft edge does not."""
    page = ruled_page(size=(384, 512), every=40, strength=0.35, squared=True)
    ImageDraw.Draw(page).rounded_rectangle((130, 15, 250, 497), radius=50, fill=1.0)  # 120 px broad, 95 % of the height
    photo = paper_photo(np.asarray(page), ink_colour=(20, 110, 60))
    assert preprocess.ink_map(photo)[100:400, 150:230].min() > 0.5  # ink all through, not only at its edges
    height, width = ink_box(to_mnist(photo))
    assert height == 20 and width <= 8  # a 1, not the grid


def test_long_straight_strokes_of_a_digit_filling_its_crop_are_not_ruling(monkeypatch):
    """A soft, boxy 0 cut out tight: its two straight sides run 80 % of the height. Ruled lines run (nearly) from
    edge to edge; taken for ruling at 75 %, a quarter of this 0's ink went, and enlarged 8x8 scans lost their 8s."""
    crop = Image.new("L", (160, 160), 235)
    ImageDraw.Draw(crop).rounded_rectangle((50, 14, 110, 146), radius=30, outline=30, width=16)
    crop = np.asarray(crop.filter(ImageFilter.GaussianBlur(3)))
    kept = preprocess.ink_map(crop).sum()
    monkeypatch.setattr(preprocess, "remove_ruled_lines", lambda ink: ink)
    assert kept >= 0.95 * preprocess.ink_map(crop).sum()


def test_lone_digit_is_a_sequence_of_one():
    assert to_mnist_sequence(draw(6)).shape == (1, 28, 28)


BROKEN_FOUR = [[(0.45, 0.08), (0.15, 0.64), (0.55, 0.64)], [(0.75, 0.2), (0.75, 0.94)]]  # its upright does not touch


def test_the_model_settles_pieces_that_may_be_one_digit_or_two(predictor):
    """A 4 whose upright stands apart is two pieces; by their shapes alone, two digits. The judge joins them,
    and still cuts touching zeros apart."""
    number = number_drawing([1, 2])
    number[:, :350] = draw(BROKEN_FOUR, size=350, box=(0.2, 0.1, 0.8, 0.7), width=16)[:280]
    assert len(to_mnist_sequence(number)) == 3
    judged = reading.mnist_images(number, number=True, predictor=predictor)
    assert list(predictor.predict(judged)) == [4, 2]
    touching = reading.mnist_images(number_drawing([0, 0], gap=-12), number=True, predictor=predictor)
    assert list(predictor.predict(touching)) == [0, 0]


def test_noise_at_a_numbers_ends_is_a_low_unsure_mark_an_unsure_far_one_or_a_far_taller_one():
    heights = np.array([60, 62, 58, 20])
    extents = np.array([[0, 40], [50, 90], [100, 140], [150, 170]])  # first and after-last columns, 40 px digits
    sure = np.array([0.9, 0.9, 0.9, 0.1])
    assert list(preprocess.noise_marks(heights, sure, extents, 40)) == [False, False, False, True]  # low and unsure
    far = extents + [[-100, -100], [0, 0], [0, 0], [0, 0]]  # the first mark 1.5 digit widths and more from the rest
    assert list(preprocess.noise_marks(heights[:3], sure[[3, 1, 2]], far[:3], 40)) == [True, False, False]
    assert list(preprocess.noise_marks(heights[:3], sure[:3], far[:3], 40)) == [False, False, False]  # sure: a digit
    assert list(preprocess.noise_marks(np.array([110, 62, 58]), sure[:3], extents[:3], 40)) == [True, False, False]


def test_a_piece_hundreds_of_digits_wide_that_no_digit_reading_fits_is_still_read_as_marks():
    """Its floor, SURENESS_FLOOR to the power of the marks its width holds, underflowed to 0.0 past 161 marks, and
    with no reading left the number could not be read at all (a KeyError)."""
    line = np.zeros((6, 3000), np.float32)
    line[:, 5:2995] = 1
    read = preprocess.surest_reading([preprocess.Piece(line, 0, 0)], 4.0, 6.0, lambda images: np.zeros(len(images)))
    assert read.shape == (1, 28, 28)
