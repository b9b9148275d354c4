"""Command line: python -m digitlens {train,evaluate,predict,export-csv,serve,export-savedmodel}."""

import sys

from digitlens.cli import main

sys.exit(main())
