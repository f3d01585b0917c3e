"""Support code of the TF1 tutorials, where TF kept it: `from xlite.examples.tutorials.mnist import input_data`."""
