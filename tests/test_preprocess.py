import io

import numpy as np
import pytest
from PIL import Image

from digitlens.preprocess import ImageError, NoInkError, read_image, to_mnist
from digitlens.strokes import draw, random_drawing


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
    assert np.array_equal(to_mnist(draw(8)), to_mnist(draw(8, rgba=False)))


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
