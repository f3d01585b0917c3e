"""tf.io.gfile: TF2's lower-case spellings of tf.gfile (xlite/gfile.py), local files only."""
from __future__ import annotations

from xlite import gfile as _gfile

GFile = _gfile.GFile
exists = _gfile.Exists
isdir = _gfile.IsDirectory
makedirs = _gfile.MakeDirs
mkdir = _gfile.MkDir
rmtree = _gfile.DeleteRecursively
remove = _gfile.Remove
listdir = _gfile.ListDirectory
glob = _gfile.Glob
copy = _gfile.Copy
rename = _gfile.Rename
stat = _gfile.Stat
walk = _gfile.Walk
