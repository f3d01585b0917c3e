"""`python -m xlite.bench`: the same as `xlite bench` (run_suite's --isolate starts each workload so)."""
import sys

from .cli import main

sys.exit(main())
