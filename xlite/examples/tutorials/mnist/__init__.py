"""MNIST for the TF1 tutorials: `input_data.read_data_sets` (local IDX files or fake data) and the `mnist` model of "TensorFlow Mechanics 101"."""
