"""TF's file formats, as bytes: CRC32C, the table (SSTable), the tensor bundle, and atomic writes.

Pure format code with no graph in it: it imports only xlite's base modules, so tf.train's Saver and
xlite.io alike may use it (tests/test_import_layers.py)."""
