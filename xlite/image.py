"""`tf.image`: geometry and value ops (frontend/image_ops, image_differences, image_random), resizing
(frontend/image_resize, image_scale_translate), colour (frontend/image_color), and the PNG/JPEG codecs
(image_codec: host ops, which is why this module sits above the runtime rather than in the frontend)."""
from __future__ import annotations

from xlite.frontend.image_color import *  # noqa: F401,F403
from xlite.frontend.image_differences import *  # noqa: F401,F403
from xlite.frontend.image_ops import *  # noqa: F401,F403
from xlite.frontend.image_random import *  # noqa: F401,F403
from xlite.frontend.image_resize import *  # noqa: F401,F403
from xlite.frontend.image_resize import ResizeMethodV1 as ResizeMethod  # noqa: F401  (TF1's ints)
from xlite.frontend.image_scale_translate import scale_and_translate  # noqa: F401
from xlite.frontend.missing_api import namespace_getattr
from xlite.image_codec import decode_image, decode_jpeg, decode_png, encode_png  # noqa: F401
from xlite.frontend.image_nms import (non_max_suppression, non_max_suppression_padded,  # noqa: F401
                                      non_max_suppression_with_scores)

__getattr__ = namespace_getattr("image", __name__)      # a TF name it lacks: UnimplementedError naming it
