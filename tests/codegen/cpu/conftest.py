"""CPU backend tests compile into a private cache directory, never the user's ~/.cache/xlite."""
import os
import tempfile

os.environ["XLITE_CACHE_DIR"] = tempfile.mkdtemp(prefix="xlite-cpu-test-cache-")
