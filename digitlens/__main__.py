"""Command line: python -m digitlens {train,evaluate,predict,export-csv}."""

import sys

from digitlens.cli import main

sys.exit(main())
