"""Run folders packed into one gzipped tar in memory, to travel with a cluster task's arguments or its
result (dltool.study.cluster_pool), and unpacked beside their kind on the other side.

A folder is small (metrics, a checkpoint, a few pictures: airfoil 0.2 MiB, ResNet-18 with its
checkpoint 90 MiB); one that packs to more than MAX_PACKED_BYTES is refused with a message, and its
member fails, rather than a driver holding gigabytes in memory.
"""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

from dltool.errors import UsageError
from dltool.store.staging import remove_abandoned, staging_folder

MAX_PACKED_BYTES = 1024**3


def pack(folders: list[Path]) -> bytes:
    """The folders, each under its own name."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as archive:
        for folder in folders:
            archive.add(folder, arcname=folder.name)
    if buffer.tell() > MAX_PACKED_BYTES:
        names = ", ".join(folder.name for folder in folders)
        raise UsageError(
            f"run folder {names} packs to {buffer.tell() / 2**20:,.0f} MiB, more than the "
            f"{MAX_PACKED_BYTES / 2**20:,.0f} MiB a cluster task carries; run this study on one machine"
        )
    return buffer.getvalue()


def unpack(packed: bytes, into: Path) -> list[str]:
    """The folders in `packed` put into `into`, each replacing a folder of its name there (a member continued
    elsewhere comes back whole): unpacked beside it first, hidden (dltool.store.staging), then swapped in.
    Their names."""
    into.mkdir(parents=True, exist_ok=True)
    remove_abandoned(into)
    staging = staging_folder(into)
    try:
        with tarfile.open(fileobj=io.BytesIO(packed), mode="r:gz") as archive:
            archive.extractall(staging, filter="data")  # no absolute paths, links out or devices
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    names = sorted(entry.name for entry in staging.iterdir())
    for name in names:
        target = into / name
        if target.exists():
            shutil.rmtree(target)
        (staging / name).rename(target)
    staging.rmdir()
    return names
