"""Data for the toy objectives (models/objectives.py): one row of gradient noise per step.

With batch_size 1 an epoch is `steps` optimizer steps, and row t is the noise added to the gradient
at step t: zero for the notes' exact gradient descent, N(mean, std²) for their simulated SGD. The
notes' sgd_2d draws np.random.normal(0.1): mean 0.1 and std 1 (its comment says mean 0), so that is
the pair the noisy comparisons use. Evaluation is on a single zero row: the loss is f(x) itself.
"""

import torch
from pydantic import Field

from dltool.bounds import MAX_EXAMPLES
from dltool.data.dataset import Dataset
from dltool.registry import DATASETS, DatasetTraits, Options


class NoiseOptions(Options):
    dims: int = Field(2, ge=1, le=2)
    steps: int = Field(20, gt=0, le=MAX_EXAMPLES)  # dltool.bounds
    mean: float = 0.0
    std: float = Field(0.0, ge=0)


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
