"""Fashion-MNIST from IDX files: data.root, then Debian's copy, then torchvision's download.

Debian re-compresses the .gz files, so torchvision's md5 check rejects them; we parse IDX ourselves.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import torch

from dltool.data.dataset import Dataset
from dltool.errors import UsageError
from dltool.registry import DATASETS, DatasetTraits, Options

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
FILES = {
    "train_x": "train-images-idx3-ubyte",
    "train_y": "train-labels-idx1-ubyte",
    "test_x": "t10k-images-idx3-ubyte",
    "test_y": "t10k-labels-idx1-ubyte",
}
CLASS_NAMES = (
    "t-shirt", "trouser", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle boot",
)  # fmt: skip
IDX_DTYPE = {0x08: np.uint8}


class FashionMnistOptions(Options):
    download: bool = False


def default_root() -> Path:
    return Path(os.environ.get("DLTOOL_DATA", "~/.cache/dltool/data")).expanduser()


def read_idx(path: Path) -> np.ndarray:
    """An IDX array (the MNIST file format), gzip-compressed or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_DTYPE:
        raise UsageError(f"{path}: not an IDX file of unsigned bytes (bad header)")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    expected = int(np.prod(shape))
    if len(raw) - offset != expected:
        raise UsageError(f"{path}: truncated or corrupt IDX file ({len(raw) - offset} of {expected} bytes)")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)


def find_files(directory: Path) -> dict[str, Path] | None:
    """The four files in `directory` (or its usual subfolders), plain or .gz; None if any is missing."""
    for folder in (directory, directory / "fashion-mnist", directory / "FashionMNIST" / "raw"):
        found = {}
        for key, stem in FILES.items():
            for candidate in (folder / stem, folder / f"{stem}.gz"):
                if candidate.is_file():
                    found[key] = candidate
                    break
        if len(found) == len(FILES):
            return found
    return None


def download(root: Path) -> dict[str, Path] | None:
    """torchvision's download into root/FashionMNIST/raw; None when it fails (e.g. no network)."""
    from torchvision.datasets import FashionMNIST

    try:
        for train in (True, False):
            FashionMNIST(str(root), train=train, download=True)
    except Exception:  # torchvision raises several kinds (URLError, RuntimeError) when offline
        return None
    return find_files(root)


def locate(root: Path, allow_download: bool) -> dict[str, Path]:
    files = find_files(root) or find_files(DEBIAN_DIR)
    if files is None and allow_download:
        files = download(root)
    if files is None:
        raise UsageError(
            "Fashion-MNIST not found. Get it one of three ways: "
            f"(1) put the four IDX files (train-images-idx3-ubyte.gz, ...) in {root} "
            "(set data.root or DLTOOL_DATA to use another folder); "
            f"(2) on Debian/Ubuntu, 'apt-get install dataset-fashion-mnist' installs them in {DEBIAN_DIR}; "
            "(3) set data.download: true (or --set data.download=true) to download them with torchvision"
            + (" (the download was tried and failed: check the network)" if allow_download else "")
        )
    return files


@DATASETS.register(
    "fashion_mnist", options=FashionMnistOptions, traits=DatasetTraits("classification", (1, 28, 28), 10)
)
def fashion_mnist(*, root: str | None, seed: int, download: bool) -> Dataset:
    folder = Path(root).expanduser() if root else default_root()
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"data.root '{folder}' is a file; give the folder that holds the Fashion-MNIST IDX files")
    files = locate(folder, download)
    arrays = {key: torch.from_numpy(read_idx(path).copy()) for key, path in files.items()}
    return Dataset(
        "fashion_mnist",
        "classification",
        train_x=arrays["train_x"].unsqueeze(1),
        train_y=arrays["train_y"].long(),
        eval_x=arrays["test_x"].unsqueeze(1),
        eval_y=arrays["test_y"].long(),
        eval_split="test",
        num_outputs=10,
        class_names=CLASS_NAMES,
    )
