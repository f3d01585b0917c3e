"""`xlite.compat.v1` is xlite itself, so `import xlite.compat.v1 as tf` works like TF's compat module."""
import sys

import xlite as v1

sys.modules[__name__ + ".v1"] = v1
