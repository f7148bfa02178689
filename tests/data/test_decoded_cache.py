"""The decoded Fashion-MNIST cache: served only for the exact source bytes, rebuilt when damaged, skipped when
it cannot be written. Every test uses a DLTOOL_DATA under tmp_path, so none writes to the real home."""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import numpy as np
import pytest

from dltool.data import decoded_cache, fashion_mnist
from dltool.data.idx import read_idx
from dltool.errors import UsageError
from tests.data.test_fashion_mnist import DEBIAN, make_fake_fashion_mnist, write_idx

TRAIN_X = "train-images-idx3-ubyte.gz"
TRAIN_Y = "train-labels-idx1-ubyte.gz"


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("DLTOOL_DATA", str(tmp_path / "data-home"))
    return tmp_path / "data-home" / "cache" / "fashion_mnist"


@pytest.fixture
def decodes(monkeypatch) -> list[Path]:
    """The files read_idx decodes, in order (the cache's only way to the source's values)."""
    calls = []

    def counting(path, layout):
        calls.append(path)
        return read_idx(path, layout)

    monkeypatch.setattr(decoded_cache, "read_idx", counting)
    return calls


def load(root: Path) -> dict[str, np.ndarray]:
    return {key: tensor.numpy() for key, tensor in fashion_mnist.load(fashion_mnist.locate(str(root), False)).items()}


def assert_same(loaded: dict[str, np.ndarray], made: dict) -> None:
    for split in ("train", "test"):
        images, labels = made[split]
        assert np.array_equal(loaded[f"{split}_x"], images) and np.array_equal(loaded[f"{split}_y"], labels)


def entry(cache: Path, source: Path, suffix: str) -> Path:
    return cache / f"{decoded_cache.identify(source).sha256}{suffix}"


def test_a_second_load_is_served_from_the_cache_without_decoding(tmp_path, cache, decodes, monkeypatch):
    made = make_fake_fashion_mnist(tmp_path / "root")
    assert_same(load(tmp_path / "root"), made)
    assert len(decodes) == 4 and len(list(cache.glob("*.npy"))) == len(list(cache.glob("*.json"))) == 4

    def no_decode(path, layout):
        raise AssertionError(f"decoded {path} again")

    monkeypatch.setattr(decoded_cache, "read_idx", no_decode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch.from_numpy warns on a non-writable array
        served = load(tmp_path / "root")
    assert_same(served, made)
    assert isinstance(decoded_cache.read_cached(tmp_path / "root" / TRAIN_X, fashion_mnist.IMAGES, cache), np.memmap)


def test_a_replaced_source_is_decoded_again(tmp_path, cache, decodes):
    root = tmp_path / "root"
    make_fake_fashion_mnist(root)
    load(root)
    replaced = np.full((64, 28, 28), 7)
    write_idx(root / TRAIN_X, replaced, compress=True)  # same name, other bytes
    assert np.array_equal(load(root)["train_x"], replaced)
    assert decodes[4:] == [root / TRAIN_X]  # only the changed file was decoded again


def test_an_entry_is_never_served_for_another_file(tmp_path, cache):
    made_a = make_fake_fashion_mnist(tmp_path / "a", n_train=64)
    made_b = make_fake_fashion_mnist(tmp_path / "b", n_train=70)
    assert_same(load(tmp_path / "a"), made_a)
    assert_same(load(tmp_path / "b"), made_b)  # same names, same cache folder: its own arrays
    assert_same(load(tmp_path / "a"), made_a)


def test_a_damaged_source_is_refused_even_with_its_good_copy_cached(tmp_path, cache):
    make_fake_fashion_mnist(tmp_path / "root")
    load(tmp_path / "root")
    (tmp_path / "root" / TRAIN_Y).write_bytes(b"<html>404</html>")
    with pytest.raises(UsageError, match="corrupt gzip file"):
        load(tmp_path / "root")


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-100])


def reshape(path: Path) -> None:
    np.save(path, np.zeros((32, 28, 28), np.uint8))  # a valid .npy, not the shape its metadata gives


def lengthen(path: Path) -> None:
    path.write_bytes(path.read_bytes() + b"\0")


def new_format(path: Path) -> None:
    path.write_text(json.dumps({**json.loads(path.read_text()), "format": decoded_cache.FORMAT + 1}))


@pytest.mark.parametrize(
    "suffix, damage",
    [
        (".npy", truncate),
        (".npy", lambda path: path.write_bytes(b"")),
        (".npy", lambda path: path.write_bytes(b"PK\x03\x04 not an npy")),
        (".npy", lambda path: path.write_bytes(path.read_bytes()[:30])),  # cut inside the header
        (".npy", reshape),
        (".npy", lengthen),
        (".npy", Path.unlink),
        (".json", Path.unlink),  # a crash between the two writes
        (".json", lambda path: path.write_text("{not json")),
        (".json", new_format),
    ],
    ids=["npy-truncated", "npy-empty", "npy-zip", "npy-header-cut", "npy-shape", "npy-longer", "npy-missing",
         "json-missing", "json-garbage", "json-other-format"],
)  # fmt: skip
def test_a_damaged_entry_is_rebuilt(tmp_path, cache, decodes, suffix, damage):
    made = make_fake_fashion_mnist(tmp_path / "root")
    load(tmp_path / "root")
    damage(entry(cache, tmp_path / "root" / TRAIN_X, suffix))
    assert_same(load(tmp_path / "root"), made)
    assert decodes[4:] == [tmp_path / "root" / TRAIN_X]
    load(tmp_path / "root")  # rebuilt: served again
    assert len(decodes) == 5


def test_cached_labels_out_of_range_are_rebuilt_not_trained_on(tmp_path, cache, decodes):
    made = make_fake_fashion_mnist(tmp_path / "root")
    load(tmp_path / "root")
    np.save(entry(cache, tmp_path / "root" / TRAIN_Y, ".npy"), np.full(64, 200, np.uint8))
    assert_same(load(tmp_path / "root"), made)
    assert decodes[4:] == [tmp_path / "root" / TRAIN_Y]


def test_a_cache_folder_that_cannot_be_created_is_skipped(tmp_path, monkeypatch, decodes, caplog):
    (tmp_path / "data-home").write_text("a file where the folder would go")
    monkeypatch.setenv("DLTOOL_DATA", str(tmp_path / "data-home"))
    made = make_fake_fashion_mnist(tmp_path / "root")
    with caplog.at_level(logging.DEBUG, logger=decoded_cache.__name__):
        assert_same(load(tmp_path / "root"), made)
        assert_same(load(tmp_path / "root"), made)
    assert len(decodes) == 8 and "decoded cache not written" in caplog.text
    assert all(record.levelno == logging.DEBUG for record in caplog.records)


def test_a_full_disk_leaves_no_entry_and_no_temporary(tmp_path, cache, decodes, monkeypatch):
    real_save = np.save

    def disk_full(handle, array, **kwargs):
        real_save(handle, array[: len(array) // 2], **kwargs)  # half written, then the disk is full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(decoded_cache.np, "save", disk_full)
    made = make_fake_fashion_mnist(tmp_path / "root")
    assert_same(load(tmp_path / "root"), made)
    assert list(cache.iterdir()) == []
    monkeypatch.setattr(decoded_cache.np, "save", real_save)
    assert_same(load(tmp_path / "root"), made)
    assert len(decodes) == 8  # the half-written files were never served: decoded again, and cached now
    assert len(list(cache.glob("*.npy"))) == 4


def test_the_real_debian_copy_is_served_the_same_from_the_cache(cache, decodes):
    assert DEBIAN.is_dir(), "install it: apt-get install dataset-fashion-mnist"
    cold = {key: array.copy() for key, array in load(DEBIAN).items()}
    warm = load(DEBIAN)
    assert len(decodes) == 4 and all(np.array_equal(cold[key], warm[key]) for key in cold)
    assert warm["train_x"].shape == (60000, 28, 28) and np.bincount(warm["train_y"]).tolist() == [6000] * 10
