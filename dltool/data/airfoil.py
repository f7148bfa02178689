"""NASA airfoil self-noise, shipped in the package (provenance: AIRFOIL_README.md beside this file).

As in the notes: every column standardized with the full-file mean and std, then the first 1500 rows.
"""

import functools
from importlib import resources

import numpy as np
import torch

from dltool.data.dataset import Dataset
from dltool.errors import UsageError
from dltool.registry import DATASETS, DatasetTraits, Options

ROWS = 1500
FILE = "airfoil_self_noise.dat"
SHAPE = (1503, 6)


@functools.cache  # a comparison builds it once per member; parsing the file is the slow part
def load_airfoil_array() -> np.ndarray:
    data = read_shipped_file()
    standardized = (data - data.mean(axis=0)) / data.std(axis=0)
    standardized.setflags(write=False)  # shared by every caller
    return standardized


def read_shipped_file() -> np.ndarray:
    """The packaged table (1503 rows of 5 inputs and the noise level), refused if an install damaged it."""
    path = resources.files("dltool.data").joinpath(FILE)
    try:
        with path.open("rb") as handle:
            data = np.loadtxt(handle, delimiter="\t", ndmin=2)
        problem = None if np.isfinite(data).all() else "values that are not finite numbers"
        if data.shape != SHAPE:
            problem = f"a {'x'.join(map(str, data.shape))} table, expected {SHAPE[0]}x{SHAPE[1]}"
    except (OSError, ValueError) as error:
        problem = str(error)[:200]
    if problem:
        raise UsageError(f"{path}: the airfoil data shipped with dltool is damaged ({problem}); reinstall dltool")
    return data


@DATASETS.register("airfoil", options=Options, traits=DatasetTraits("regression", (5,), 1))
def airfoil(*, root: str | None, seed: int) -> Dataset:
    data = load_airfoil_array()
    x = torch.tensor(data[:ROWS, :-1], dtype=torch.float32)
    y = torch.tensor(data[:ROWS, -1], dtype=torch.float32)
    return Dataset("airfoil", "regression", x, y, x, y, eval_split="full", num_outputs=1)
