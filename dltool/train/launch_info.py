"""The file through which the ranks of `dltool train --nproc` tell their launcher how the run went.

Light on purpose (no config, no torch): every command ends by calling tell_launcher, `dltool --help` too.
"""

from __future__ import annotations

import os
from pathlib import Path

from dltool.files import atomic_write_json, read_json

LAUNCH_INFO = "DLTOOL_LAUNCH_INFO"


def tell_launcher(**fields) -> None:
    """Rank 0 adds `fields` to the launcher's info file; a no-op when not started by `--nproc`."""
    path = os.environ.get(LAUNCH_INFO)
    if path and os.environ.get("RANK") == "0":
        atomic_write_json(Path(path), {**(read_json(Path(path)) or {}), **fields})
