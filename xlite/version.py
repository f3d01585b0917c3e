"""xlite's version, in a module of its own so that code below the package's `__init__` (the compile
caches key on it) can read it without importing all of xlite."""

__version__ = "0.1.0"
