"""Photos taken outside the benchmark's ranges: does the reading still find the digit?

bench/real_world.py photographs digits 20-70 % of the frame's height, turned a few degrees, on white paper, in
fair light. People also hold the phone close or far, turn the page, use sticky notes and blackboards, shoot in
a dark room. Each condition in bench/material.py's CONDITIONS photographs the same 150 digits (scikit-learn's,
handwriting fonts', MNIST test's) that way; the first condition is the benchmark's own ranges, for reference.
Read as the dashboard reads an upload (reading.mnist_images with the model as judge, then reading.read): right
means the right digit, not refused.

With --against REF the same photos are also read by that commit's code and model (extracted from git into a
temporary folder, run in a second process at the same time), so a change is measured beside what it replaces.
Run: python bench/photo_conditions.py [--against REF] [--final] [--count N]   (about 15 min at 150 a condition)
Needs the fonts bench/real_world.py needs.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
COUNT = 150  # photos a condition: about 1.8 points of standard error at 95 %


def read_conditions(split: str, count: int) -> dict[str, dict[str, list[bool]]]:
    """For each condition, whether each photo was read right, by source."""
    import material
    from digitlens import preprocess, reading
    from digitlens.model import Predictor

    predictor = Predictor.load()
    results = {}
    for condition in material.CONDITIONS:
        by_source: dict[str, list[bool]] = {}
        for image, label, source in material.condition_photos(condition, split, count):
            try:
                found = reading.read(predictor, reading.mnist_images(image, predictor=predictor))
                right = bool(found.is_digit[0] and found.digits[0] == label)
            except preprocess.NoInkError:
                right = False
            by_source.setdefault(source, []).append(right)
        results[condition] = by_source
    return results


def against(ref: str, folder: Path, split: str, count: int) -> subprocess.Popen:
    """This script, run on REF's digitlens and model, extracted from git into folder, with our MNIST files."""
    archive = subprocess.run(["git", "archive", ref, "digitlens", "model"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    (folder / "data").symlink_to(ROOT / "data")  # the same MNIST files
    command = [sys.executable, __file__, "--code", str(folder), "--json", "--count", str(count)] + (["--final"] if split == "final" else [])
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def share(rights: list[bool]) -> str:
    return f"{np.mean(rights):.1%}" if rights else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="REF", help="also read with this commit's code and model, beside")
    parser.add_argument("--final", action="store_true", help="the held-out final split's sources")
    parser.add_argument("--count", type=int, default=COUNT, help="photos per condition")
    parser.add_argument("--code", type=Path, help=argparse.SUPPRESS)  # where digitlens comes from (--against)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path[:0] = [str(args.code or ROOT), str(ROOT / "bench")]
    split = "final" if args.final else "dev"
    if args.json:
        print(json.dumps(read_conditions(split, args.count)))
        return
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        other = against(args.against, Path(folder), split, args.count) if args.against else None
        current = read_conditions(split, args.count)
        output = other.communicate()[0] if other else None
    if other and other.returncode:
        sys.exit(f"reading with {args.against} failed")
    before = json.loads(output) if other else None
    print(f"{split} split, {args.count} photos a condition; read right (the right digit, not refused)")
    print(f"\n{'condition':38}{args.against or '':>12}{'current':>10}   current by source")
    for condition, by_source in current.items():
        everything = sum(by_source.values(), [])
        previous = share(sum(before[condition].values(), [])) if before else ""
        sources = "  ".join(f"{source} {share(rights)}" for source, rights in by_source.items())
        print(f"{condition:38}{previous:>12}{share(everything):>10}   {sources}")
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
