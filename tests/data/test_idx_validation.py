"""Damaged Fashion-MNIST files and data roots: one line naming the file, what is wrong and how to get a good
copy, exit 2, no run folder. Each test builds its damaged input from the fake-data helper."""

from __future__ import annotations

import gzip
import re
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dltool.data import fashion_mnist
from dltool.data.idx import IdxError, read_idx
from dltool.errors import UsageError
from tests.conftest import CONFIGS, run_folders, write
from tests.data.test_fashion_mnist import make_fake_fashion_mnist, write_idx

TRAIN_X = "train-images-idx3-ubyte"
TRAIN_Y = "train-labels-idx1-ubyte"
GOOD_COPY = "delete it and set data.download: true"


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    """A data root holding the fake set (plain files), with a good fake 'Debian copy' to fall back on:
    so a test passing proves that a damaged or incomplete data.root is not silently replaced."""
    debian = tmp_path / "debian"
    make_fake_fashion_mnist(debian)
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", debian)
    monkeypatch.setenv("DLTOOL_DATA", str(tmp_path / "empty-cache"))
    make_fake_fashion_mnist(tmp_path / "root", compress=False)
    return tmp_path / "root"


def train(dltool, root: Path):
    return dltool(
        "train", CONFIGS / "softmax_torch.yaml", "-q", "--set", f"data.root={root}", "--set", "train.epochs=1"
    )


def assert_refused(result, runs_dir: Path, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and result.output.count("\n") == 1, result.output
    assert "Traceback" not in result.output and "Aborted" not in result.output
    for fragment in fragments:
        assert fragment in result.output, (fragment, result.output)
    assert run_folders(runs_dir) == []


def gzipped(path: Path) -> Path:
    """Replace the plain file by its .gz (what the real copies are)."""
    target = path.with_name(path.name + ".gz")
    target.write_bytes(gzip.compress(path.read_bytes()))
    path.unlink()
    return target


def patch_bytes(path: Path, offset: int, data: bytes) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset : offset + len(data)] = data
    path.write_bytes(bytes(raw))


# ------------------------------------------------------------------ gzip


def test_garbage_inside_the_gzip_stream_is_refused(root, dltool, runs_dir):
    path = gzipped(root / TRAIN_X)
    raw = path.read_bytes()
    path.write_bytes(raw[:10] + bytes(b ^ 0x5A for b in raw[10:40]) + raw[40:])
    assert_refused(train(dltool, root), runs_dir, str(path), "corrupt gzip", GOOD_COPY)


def test_a_bad_crc_is_refused(root, dltool, runs_dir):
    path = gzipped(root / TRAIN_Y)
    patch_bytes(path, len(path.read_bytes()) - 8, b"\xde\xad\xbe\xef")  # the trailer: CRC32, then the size
    assert_refused(train(dltool, root), runs_dir, str(path), "CRC check failed", GOOD_COPY)


def test_a_file_that_is_not_gzip_at_all_is_refused(root, dltool, runs_dir):
    path = gzipped(root / TRAIN_X)
    path.write_bytes(b"<html>404 Not Found</html>")
    assert_refused(train(dltool, root), runs_dir, str(path), "corrupt gzip file", "Not a gzipped file")


@pytest.mark.parametrize("keep", [0.5, 0.999])
def test_a_truncated_gzip_file_is_refused_not_aborted(root, dltool, runs_dir, keep):
    """Python's gzip raises EOFError on a truncated stream, which typer turned into a bare 'Aborted.'."""
    path = gzipped(root / TRAIN_X)
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) * keep)])
    assert_refused(train(dltool, root), runs_dir, str(path), "truncated gzip file", GOOD_COPY)


def test_a_gzip_bomb_is_refused_after_reading_only_what_the_header_announces(tmp_path):
    """50 MB of zeros behind a valid 64-image header: read stops at the announced 50 kB (+1 byte)."""
    make_fake_fashion_mnist(tmp_path, compress=False)
    plain = (tmp_path / TRAIN_X).read_bytes()
    bomb = tmp_path / "bomb.gz"
    bomb.write_bytes(gzip.compress(plain + bytes(50_000_000), compresslevel=1))
    tracemalloc.start()
    with pytest.raises(IdxError, match="longer than the 50,176 value bytes"):
        read_idx(bomb, fashion_mnist.IMAGES)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 5_000_000, peak


def test_a_header_announcing_too_many_examples_is_refused_before_reading(root, dltool, runs_dir):
    path = root / TRAIN_X
    patch_bytes(path, 4, struct.pack(">I", fashion_mnist.MAX_EXAMPLES + 1))
    assert_refused(train(dltool, root), runs_dir, str(path), "announces 250,001 images, expected 1 to 250,000")


# ------------------------------------------------------------------ IDX header and length


@pytest.mark.parametrize(
    "offset, data, fragment",
    [
        (0, b"\x1f\x8b", "not an IDX file: it starts with bytes 1f 8b 08 03"),
        (2, b"\x0d", "its values are floats (IDX type byte 0x0d), not unsigned bytes"),
        (2, b"\x42", "of unknown type 0x42"),
        (3, b"\x02", "its header gives 2 dimensions (64x28), expected Nx28x28 images"),
        (3, b"\x04", "its header gives 4 dimensions (64x28x28x"),
    ],
    ids=["magic", "dtype-float", "dtype-unknown", "ndim-2", "ndim-4"],
)
def test_a_bad_idx_header_is_refused(root, dltool, runs_dir, offset, data, fragment):
    path = gzipped(root / TRAIN_X) if offset == 3 else root / TRAIN_X
    if path.suffix == ".gz":  # damage the IDX inside the gzip, which stays valid
        path.write_bytes(gzip.compress(bytes(patched(gzip.decompress(path.read_bytes()), offset, data))))
    else:
        patch_bytes(path, offset, data)
    assert_refused(train(dltool, root), runs_dir, str(path), fragment, GOOD_COPY)


def patched(raw: bytes, offset: int, data: bytes) -> bytearray:
    out = bytearray(raw)
    out[offset : offset + len(data)] = data
    return out


@pytest.mark.parametrize(
    "change, fragment",
    [
        (lambda raw: raw[:-10], "truncated or corrupt IDX file: 50,166 of the 50,176 value bytes"),
        (lambda raw: raw + b"\0", "truncated or corrupt IDX file: longer than the 50,176 value bytes"),
        (lambda raw: raw[:9], "truncated or corrupt IDX file: it ends inside its header (5 of 12 bytes)"),
        (lambda raw: b"", "truncated or corrupt IDX file: it ends inside its header (0 of 4 bytes)"),
    ],
    ids=["short", "long", "header-cut", "empty"],
)
@pytest.mark.parametrize("compress", [False, True])
def test_a_length_other_than_the_headers_is_refused(root, dltool, runs_dir, change, fragment, compress):
    path = root / TRAIN_X
    path.write_bytes(change(path.read_bytes()))
    path = gzipped(path) if compress else path
    assert_refused(train(dltool, root), runs_dir, str(path), fragment)


# ------------------------------------------------------------------ shapes, labels and counts


@pytest.mark.parametrize(
    "name, array, fragment",
    [
        (TRAIN_Y, np.r_[np.arange(9), 10, np.zeros(54)], "value 10 at position 9 is outside 0-9"),
        (TRAIN_Y, np.r_[np.zeros(63), 255], "value 255 at position 63 is outside 0-9"),
        (TRAIN_Y, (np.arange(64) % 10).reshape(64, 1), "2 dimensions (64x1), expected N labels"),
        (TRAIN_Y, np.arange(10), "10 labels for the 64 train images of train-images-idx3-ubyte"),
        (TRAIN_X, np.zeros((64, 784)), "2 dimensions (64x784), expected Nx28x28 images"),
        (TRAIN_X, np.zeros((64, 14, 56)), "3 dimensions (64x14x56), expected Nx28x28 images"),
        (TRAIN_X, np.zeros((64, 1, 28, 28)), "4 dimensions (64x1x28x28), expected Nx28x28 images"),
        (TRAIN_X, np.zeros((0, 28, 28)), "announces 0 images, expected 1 to 250,000"),
        ("t10k-images-idx3-ubyte", np.zeros((60_000, 28, 28)), "32 labels for the 60,000 test images"),
    ],
    ids=["label-10", "label-255", "labels-Nx1", "counts-differ", "images-2d", "images-14x56", "images-4d", "empty",
         "60000-images-32-labels"],
)  # fmt: skip
def test_data_fashion_mnist_does_not_have_is_refused(root, dltool, runs_dir, name, array, fragment):
    write_idx(root / name, array, compress=False)
    blamed = name.replace("images-idx3", "labels-idx1") if "labels for the" in fragment else name
    assert_refused(train(dltool, root), runs_dir, str(root / blamed), fragment)


def test_a_bad_file_in_the_debian_copy_says_to_reinstall_the_package(root, monkeypatch):
    debian = fashion_mnist.DEBIAN_DIR
    patch_bytes(debian / f"{TRAIN_Y}.gz", 0, b"\0\0")
    with pytest.raises(UsageError, match="reinstall it: 'apt-get install --reinstall dataset-fashion-mnist'"):
        fashion_mnist.fashion_mnist(root=None, seed=0, download=False)


def test_a_bad_file_in_the_default_folder_is_refused_not_replaced_by_the_debian_copy(root, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    make_fake_fashion_mnist(cache)
    patch_bytes(cache / f"{TRAIN_Y}.gz", 0, b"\0\0")
    monkeypatch.setenv("DLTOOL_DATA", str(cache))
    with pytest.raises(UsageError, match=f"{cache / TRAIN_Y}.gz: corrupt gzip file"):
        fashion_mnist.fashion_mnist(root=None, seed=0, download=False)


# ------------------------------------------------------------------ explicit data.root


def test_an_explicit_root_that_does_not_exist_is_an_error_not_the_debian_copy(root, dltool, runs_dir, tmp_path):
    missing = tmp_path / "nowhere"
    config = write(
        tmp_path / "fm.yaml", f"model: {{name: softmax}}\ndata: {{name: fashion_mnist, root: '{missing}'}}\n"
    )
    result = dltool("train", config, "-q")
    assert_refused(result, runs_dir, f"data.root '{missing}' does not exist", "three ways", "apt-get install")
    assert "data.download: true" in result.output


@pytest.mark.parametrize("layout", ["", "FashionMNIST/raw"])
def test_an_explicit_root_lacking_a_file_names_it(dltool, runs_dir, tmp_path, monkeypatch, layout):
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", tmp_path / "debian")
    make_fake_fashion_mnist(tmp_path / "debian")
    make_fake_fashion_mnist(tmp_path / "root" / layout)
    (tmp_path / "root" / layout / "t10k-labels-idx1-ubyte.gz").unlink()
    where = "lacks" if not layout else "has FashionMNIST/raw/, which lacks"
    result = train(dltool, tmp_path / "root")
    assert_refused(result, runs_dir, f"data.root '{tmp_path / 'root'}' {where} t10k-labels-idx1-ubyte(.gz).")


def test_an_explicit_empty_root_lists_all_four_files(root, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError) as raised:
        fashion_mnist.fashion_mnist(root=str(tmp_path / "empty"), seed=0, download=False)
    assert all(f"{stem}(.gz)" in str(raised.value) for stem in fashion_mnist.FILES.values())


@pytest.mark.parametrize(
    "name, fragment",
    [("x" * 5000, "cannot search 'xxx"), ("bad\0name", "data.root 'bad\\x00name' does not exist")],
    ids=["too-long", "nul-byte"],
)
def test_an_unusable_root_is_an_error_with_a_short_printable_name(root, name, fragment):
    with pytest.raises(UsageError, match=re.escape(fragment)) as raised:
        fashion_mnist.fashion_mnist(root=name, seed=0, download=False)
    assert len(str(raised.value)) < 1000 and str(raised.value).isprintable()


def test_the_null_root_still_falls_back_on_the_debian_copy(root):
    assert len(fashion_mnist.fashion_mnist(root=None, seed=0, download=False).train_y) == 64


# ------------------------------------------------------------------ any damage: IdxError, never another exception


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_any_damage_to_a_gzipped_label_file_is_read_or_refused(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("fuzz")
    write_idx(folder / "labels.gz", np.arange(300) % 10, compress=True)
    raw = bytearray((folder / "labels.gz").read_bytes())
    cut = data.draw(st.integers(0, len(raw)))
    for _ in range(data.draw(st.integers(0, 3))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    (folder / "labels.gz").write_bytes(bytes(raw[:cut]) + data.draw(st.binary(max_size=20)))
    try:
        labels = read_idx(folder / "labels.gz", fashion_mnist.LABELS)
    except IdxError as error:
        assert "\n" not in str(error)
    else:
        assert labels.ndim == 1 and labels.max() <= 9


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=st.binary(max_size=64))
def test_any_bytes_as_a_plain_label_file_are_read_or_refused(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("fuzz") / "labels"
    path.write_bytes(raw)
    try:
        labels = read_idx(path, fashion_mnist.LABELS)
    except IdxError as error:
        assert "\n" not in str(error)
    else:
        assert labels.ndim == 1 and labels.max() <= 9
