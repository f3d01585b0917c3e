"""`tf.image`: geometry and value ops (image_ops), resizing (image_resize), colour (image_color)."""
from __future__ import annotations

from xlite.frontend.image_ops import *  # noqa: F401,F403
from xlite.frontend.image_resize import *  # noqa: F401,F403
from xlite.frontend.image_resize import ResizeMethodV1 as ResizeMethod  # noqa: F401  (TF1's ints)
from xlite.frontend.image_color import *  # noqa: F401,F403
