"""NASA airfoil self-noise, shipped in the package (provenance: AIRFOIL_README.md beside this file).

As in the notes: every column standardized with the full-file mean and std, then the first 1500 rows.
"""

import functools
from importlib import resources

import numpy as np
import torch

from dltool.data.dataset import Dataset
from dltool.registry import DATASETS, DatasetTraits, Options

ROWS = 1500


@functools.cache  # a comparison builds it once per member; parsing the file is the slow part
def load_airfoil_array() -> np.ndarray:
    with resources.files("dltool.data").joinpath("airfoil_self_noise.dat").open("rb") as handle:
        data = np.loadtxt(handle, delimiter="\t")
    standardized = (data - data.mean(axis=0)) / data.std(axis=0)
    standardized.setflags(write=False)  # shared by every caller
    return standardized


@DATASETS.register("airfoil", options=Options, traits=DatasetTraits("regression", (5,), 1))
def airfoil(*, root: str | None, seed: int) -> Dataset:
    data = load_airfoil_array()
    x = torch.tensor(data[:ROWS, :-1], dtype=torch.float32)
    y = torch.tensor(data[:ROWS, -1], dtype=torch.float32)
    return Dataset("airfoil", "regression", x, y, x, y, eval_split="full", num_outputs=1)
