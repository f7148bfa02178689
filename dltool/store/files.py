"""Moved to dltool.files (below every package, so data can write atomically without importing store). This
stand-in stays only while dltool/plots and dltool/study, restructured on another branch, still import it
from here: delete it once they import dltool.files."""

from dltool.files import atomic_write as atomic_write
from dltool.files import atomic_write_json as atomic_write_json
from dltool.files import atomic_write_text as atomic_write_text
from dltool.files import read_json as read_json
