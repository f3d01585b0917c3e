"""TF's SavedModel format, the parts that need no Saver: the SavedModel proto and its files (`proto`),
the constants TF names (`constants`, `signature_constants`, `tag_constants`), TensorInfo (`utils`) and
SignatureDefs (`signature_def_utils`). The builder and loader, which save and restore Variables through
tf.train.Saver, are xlite/train/saved_model_builder.py and saved_model_loader.py; `tf.saved_model`
(xlite/saved_model.py) gathers them all.
"""
