"""Runs the benchmark suite from a checkout: `python benchmarks/run.py [--quick] [--workloads W1,W3] ...`.

The same as `xlite bench`; see xlite/bench/ for what is measured and how.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from xlite.bench import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
