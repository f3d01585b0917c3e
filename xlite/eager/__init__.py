"""Eager execution (#15): ops that run as they are called, each through a kernel the compile driver
made once per signature; eager Variables; GradientTape. Graph building stays the default (TF1);
`tf.enable_eager_execution()` switches the process over (context.py)."""
