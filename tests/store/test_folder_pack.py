"""Run folders travel with a cluster task (Cluster): packed and unpacked whole, a folder continued elsewhere
replacing its old self, one past the limit refused with a message, and an archive that would write outside
its folder refused (tarfile's data filter)."""

from __future__ import annotations

import io
import tarfile

import pytest

from dltool.errors import UsageError
from dltool.store import folder_pack
from dltool.store.folder_pack import pack, unpack


def test_folders_come_back_whole_and_replace_their_old_selves(tmp_path):
    run = tmp_path / "there" / "20261207-airfoil-sgd-0001"
    (run / "checkpoints").mkdir(parents=True)
    (run / "status.json").write_text('{"status": "completed"}')
    (run / "checkpoints" / "last.pt").write_bytes(b"\0" * 1000)
    here = tmp_path / "here"
    (here / run.name).mkdir(parents=True)
    (here / run.name / "stale.txt").write_text("from before it was continued elsewhere")
    assert unpack(pack([run]), here) == [run.name]
    assert sorted(p.name for p in (here / run.name).iterdir()) == ["checkpoints", "status.json"]
    assert (here / run.name / "checkpoints" / "last.pt").read_bytes() == b"\0" * 1000
    assert [p.name for p in here.iterdir()] == [run.name]  # nothing left of the unpacking


def test_a_folder_past_the_limit_is_refused_with_its_size(tmp_path, monkeypatch):
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "noise.bin").write_bytes(bytes(range(256)) * 4096)
    monkeypatch.setattr(folder_pack, "MAX_PACKED_BYTES", 1024)
    with pytest.raises(UsageError, match=r"big packs to .* MiB, more than the 0 MiB a cluster task carries"):
        pack([tmp_path / "big"])


def test_an_archive_that_writes_outside_its_folder_is_refused(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        entry = tarfile.TarInfo("../outside.txt")
        entry.size = 2
        archive.addfile(entry, io.BytesIO(b"hi"))
    with pytest.raises(tarfile.TarError):
        unpack(buffer.getvalue(), tmp_path / "in")
    assert not (tmp_path / "outside.txt").exists() and list((tmp_path / "in").iterdir()) == []
