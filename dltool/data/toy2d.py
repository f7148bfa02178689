"""Data for the toy objectives (models/objectives.py) and the noisy quadratic model (models/nqm.py): one row
of gradient noise per example.

With batch_size 1 an epoch is `steps` optimizer steps, and row t is the noise added to the gradient
at step t: zero for the notes' exact gradient descent, N(mean, std²) for their simulated SGD. The
notes' sgd_2d draws np.random.normal(0.1): mean 0.1 and std 1 (its comment says mean 0), so that is
the pair the noisy comparisons use. Evaluation is on a single zero row: the loss is f(x) itself.
"""

import torch
from pydantic import Field, model_validator

from dltool.bounds import MAX_EXAMPLES
from dltool.data.dataset import Dataset
from dltool.registry import DATASETS, DatasetTraits, Options

MAX_DIMS = 1024


class NoiseOptions(Options):
    dims: int = Field(2, ge=1, le=MAX_DIMS)  # the notes' objectives have 1 or 2; the noisy quadratic model more
    steps: int = Field(20, gt=0, le=MAX_EXAMPLES)  # dltool.bounds
    mean: float = 0.0
    std: float = Field(0.0, ge=0)

    @model_validator(mode="after")
    def _fits_in_memory(self) -> "NoiseOptions":
        if self.steps * self.dims > MAX_EXAMPLES:  # the noise is held as one float64 tensor
            raise ValueError(f"steps × dims must be at most {MAX_EXAMPLES:,} (the noise is held in memory)")
        return self


@DATASETS.register("gradient_noise", options=NoiseOptions, traits=DatasetTraits("objective", noise_option="std"))
def gradient_noise(*, root: str | None, seed: int, dims: int, steps: int, mean: float, std: float) -> Dataset:
    generator = torch.Generator().manual_seed(seed)
    noise = mean + std * torch.randn(steps, dims, generator=generator, dtype=torch.float64)
    zeros = torch.zeros(1, dims, dtype=torch.float64)
    return Dataset(
        "gradient_noise",
        "objective",
        noise,
        torch.zeros(steps),
        zeros,
        torch.zeros(1),
        eval_split="full",
        num_outputs=dims,
    )
