"""The notes' synthetic linear-regression data: y = Xw + b + N(0, 0.01^2)."""

import torch
from pydantic import Field

from dltool.bounds import MAX_EXAMPLES
from dltool.data.dataset import Dataset
from dltool.registry import DATASETS, DatasetTraits, Options

TRUE_W = (2.0, -3.4)
TRUE_B = 4.2


class SyntheticOptions(Options):
    num_examples: int = Field(1000, gt=0, le=MAX_EXAMPLES)  # dltool.bounds
    noise_std: float = Field(0.01, ge=0)


@DATASETS.register(
    "synthetic_linreg", options=SyntheticOptions, traits=DatasetTraits("regression", (2,), 1, seeded=True)
)
def synthetic_linreg(*, root: str | None, seed: int, num_examples: int, noise_std: float) -> Dataset:
    generator = torch.Generator().manual_seed(seed)
    w = torch.tensor(TRUE_W)
    x = torch.normal(0.0, 1.0, (num_examples, len(TRUE_W)), generator=generator)
    y = x @ w + TRUE_B
    y += torch.normal(0.0, noise_std, y.shape, generator=generator)
    return Dataset("synthetic_linreg", "regression", x, y, x, y, eval_split="full", num_outputs=1)
