"""digitlens: explore what an MNIST digit classifier predicts and where it goes wrong."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data" / "mnist"
MODEL_DIR = ROOT / "model"
MODEL_PATH = MODEL_DIR / "mnist_cnn.keras"
METRICS_PATH = MODEL_DIR / "metrics.json"
MLP_PATH = MODEL_DIR / "mlp" / "mnist_mlp.keras"  # the tutorial's network, shipped to compare with ours
MODEL_ENV = "DIGITLENS_MODEL"  # path of the .keras model the API serves, set by `serve --model`

IMAGE_SIDE = 28
NUM_PIXELS = IMAGE_SIDE * IMAGE_SIDE
NUM_CLASSES = 10
MAX_PIXEL = 255
INK_PIXEL = 128  # a pixel of a 28x28 input at least this bright is ink
INK_THRESHOLD = 0.2  # share of the strongest ink below which a pixel counts as paper (a photo's, or a speck's)
