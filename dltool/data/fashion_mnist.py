"""Fashion-MNIST from IDX files: an explicit data.root, or else DLTOOL_DATA, Debian's copy, torchvision's download.

Debian re-compresses the .gz files, so torchvision's md5 check rejects them; we parse IDX ourselves (idx.py)
and check every file (format, shapes, label range, counts) before anything trains. The checked arrays are
cached under DLTOOL_DATA (decoded_cache.py), whichever folder the files came from: later runs skip the decode.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from dltool.data.dataset import Dataset
from dltool.data.decoded_cache import read_cached
from dltool.data.idx import IdxError, IdxLayout
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
# Per file: 4x the real training set (60,000); bounds the memory a damaged header (or a .gz bomb) can claim.
MAX_EXAMPLES = 250_000
IMAGES = IdxLayout("images", (28, 28), MAX_EXAMPLES)
LABELS = IdxLayout("labels", (), MAX_EXAMPLES, max_value=len(CLASS_NAMES) - 1)
LAYOUTS = {"train_x": IMAGES, "train_y": LABELS, "test_x": IMAGES, "test_y": LABELS}
SPLITS = {"train": ("train_x", "train_y"), "test": ("test_x", "test_y")}


class FashionMnistOptions(Options):
    download: bool = False


def default_root() -> Path:
    return Path(os.environ.get("DLTOOL_DATA", "~/.cache/dltool/data")).expanduser()


def cache_folder() -> Path | None:
    """Where the decoded arrays are kept: under DLTOOL_DATA even when data.root is another (read-only) folder.
    None (no cache) where the default cannot be placed: no home directory, with data.root given."""
    try:
        return default_root() / "cache" / "fashion_mnist"
    except RuntimeError:  # expanduser: "Could not determine home directory"
        return None


def subfolders(directory: Path) -> tuple[Path, ...]:
    """Where the files may be: the folder itself, Debian's name, torchvision's layout."""
    return directory, directory / "fashion-mnist", directory / "FashionMNIST" / "raw"


def files_in(folder: Path) -> dict[str, Path]:
    """Those of the four files that `folder` holds, plain or .gz (plain first)."""
    found = {}
    for key, stem in FILES.items():
        for candidate in (folder / stem, folder / f"{stem}.gz"):
            if candidate.is_file():
                found[key] = candidate
                break
    return found


def find_files(directory: Path) -> dict[str, Path] | None:
    """The four files in `directory` (or its usual subfolders); None if any is missing."""
    for folder in subfolders(directory):
        found = files_in(folder)
        if len(found) == len(FILES):
            return found
    return None


def missing_files(directory: Path) -> str:
    """Which files are missing, in the subfolder that holds the most of the four."""
    folder, found = max(((folder, files_in(folder)) for folder in subfolders(directory)), key=lambda f: len(f[1]))
    missing = ", ".join(f"{stem}(.gz)" for key, stem in FILES.items() if key not in found)
    return f"lacks {missing}" if folder == directory else f"has {folder.relative_to(directory)}/, which lacks {missing}"


def download(root: Path) -> dict[str, Path] | None:
    """torchvision's download into root/FashionMNIST/raw; None when it fails (e.g. no network)."""
    from torchvision.datasets import FashionMNIST

    try:
        for train in (True, False):
            FashionMNIST(str(root), train=train, download=True)
    except Exception:  # torchvision raises several kinds (URLError, RuntimeError) when offline
        return None
    return find_files(root)


def shown(path: Path) -> str:
    """A path as messages show it: escaped if unprintable, cut if long (a config may hold any string)."""
    text = str(path) if str(path).isprintable() else ascii(str(path))[1:-1]
    return text if len(text) <= 160 else f"{text[:100]}...{text[-50:]}"


def ways_to_get(folder: str, explicit: bool, tried_download: bool) -> str:
    return (
        "Get Fashion-MNIST one of three ways: "
        f"(1) put the four IDX files (train-images-idx3-ubyte.gz, ...) in {folder}"
        + ("" if explicit else " (set data.root or DLTOOL_DATA to use another folder)")
        + f"; (2) on Debian/Ubuntu, 'apt-get install dataset-fashion-mnist' installs them in {DEBIAN_DIR}"
        + (" (then set data.root: null)" if explicit else "")
        + f"; (3) set data.download: true (or --set data.download=true) to download them into {folder} with torchvision"
        + (" (the download was tried and failed: check the network)" if tried_download else "")
    )


def search(folder: Path, explicit: bool, allow_download: bool) -> dict[str, Path] | None:
    """An explicit root is the only place looked in; a null root falls back on Debian's copy."""
    if folder.exists() and not folder.is_dir():
        name = "data.root" if explicit else "DLTOOL_DATA"
        raise UsageError(f"{name} '{shown(folder)}' is a file; give the folder that holds the Fashion-MNIST IDX files")
    files = find_files(folder) or (None if explicit else find_files(DEBIAN_DIR))
    if files is None and allow_download:
        files = download(folder)
    return files


def locate(root: str | None, allow_download: bool) -> dict[str, Path]:
    """The four files, from data.root when it is given, else from the default places; UsageError when absent."""
    explicit = root is not None
    folder = Path(root).expanduser() if explicit else default_root()
    try:
        files = search(folder, explicit, allow_download)
        if files is not None:
            return files
        problem = "Fashion-MNIST not found"
        if explicit:
            lacks = missing_files(folder) if folder.exists() else "does not exist"
            problem = f"data.root '{shown(folder)}' {lacks}"
    except (OSError, ValueError) as error:  # an unreadable folder, an over-long name in the path
        reason = getattr(error, "strerror", None) or str(error)[:100]
        raise UsageError(
            f"Fashion-MNIST: cannot search '{shown(folder)}' ({reason}); give a folder you can read"
        ) from None
    raise UsageError(f"{problem}. {ways_to_get(shown(folder), explicit, allow_download)}")


def good_copy(path: Path) -> str:
    if path.parent == DEBIAN_DIR:
        return "reinstall it: 'apt-get install --reinstall dataset-fashion-mnist'"
    return (
        "replace it with a good copy: delete it and set data.download: true to download it again, "
        f"or use Debian's copy ('apt-get install dataset-fashion-mnist', then data.root: {DEBIAN_DIR})"
    )


def read_checked(path: Path, layout: IdxLayout) -> np.ndarray:
    try:
        return read_cached(path, layout, cache_folder())
    except IdxError as error:
        raise UsageError(f"{shown(path)}: {error}; {good_copy(path)}") from None


def load(files: dict[str, Path]) -> dict[str, torch.Tensor]:
    """The four arrays, each file checked, and one label per image in each split."""
    arrays = {key: read_checked(path, LAYOUTS[key]) for key, path in files.items()}
    for split, (images, labels) in SPLITS.items():
        n_images, n_labels = len(arrays[images]), len(arrays[labels])
        if n_images != n_labels:
            raise UsageError(
                f"{shown(files[labels])}: {n_labels:,} labels for the {n_images:,} {split} images "
                f"of {files[images].name} (one label per image expected); {good_copy(files[labels])}"
            )
    return {key: torch.from_numpy(array) for key, array in arrays.items()}


@DATASETS.register(
    "fashion_mnist",
    options=FashionMnistOptions,
    traits=DatasetTraits("classification", (1, 28, 28), 10, test_split=True),
)
def fashion_mnist(*, root: str | None, seed: int, download: bool) -> Dataset:
    arrays = load(locate(root, download))
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
