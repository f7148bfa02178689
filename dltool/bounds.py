"""The bounds of every integer a config holds, written once; the schema and the entries' options use them.

A config is checked before anything is built, so a slip of a few digits (`epochs: 10000000`) or a hostile
value (`seed: 100000000000000000000000000`) is one clear message, not a run that never ends, an overflow
inside torch or memory exhausted. The limits are generous for the notes' experiments and their variations:

    seed                                                                 0 .. 2**32 - 1
    train.epochs                                                         1 .. 10,000
    data.batch_size                                                      1 .. 1,000,000
    data.train_size, test_size, num_examples, steps (gradient_noise)     1 .. 10,000,000
    data.validation (held-out training examples)                         1 .. 10,000,000
    data.resize (the side of the square image, in pixels)                1 .. 1,024
    train.eval_every_examples, checkpoint_every_steps, milestones        1 .. 10**12
    model widths: hidden, channels, widths, growth_rate, stem_channels   1 .. 65,536
    blocks per stage or per dense block                                  1 .. 1,000
    lists of layers, stages or milestones                                at most 64 entries
    threads (torch's intra-op threads)                                   1 .. 1,024

Floats are bounded by being finite (every model says allow_inf_nan=False), and the hyperparameters of the
optimizers and schedules by float32's largest value (MAX_FLOAT): torch takes them as float32 scalars, and
one beyond that is an overflow inside torch mid-run, not a diverged run. The YAML reader refuses an
integer of more than 18 digits before Python converts it (dltool.safe_yaml), so none of these is ever
compared with a number of thousands of digits.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

# torch.manual_seed takes 64 bits, numpy.random.seed only 0 .. 2**32 - 1: a seed both accept can be given to
# either; the per-stream offsets added to it (dltool.train.build, under 2**22) stay far below torch's limit.
MAX_SEED = 2**32 - 1
MAX_EPOCHS = 10_000
MAX_BATCH_SIZE = 1_000_000
MAX_EXAMPLES = 10_000_000
MAX_IMAGE_SIDE = 1_024
MAX_COUNT = 10**12  # steps or examples between events: far beyond any run, far below int64
MAX_WIDTH = 65_536
MAX_REPEATS = 1_000
MAX_ENTRIES = 64
MAX_FLOAT = 3.4028234663852886e38  # float32's largest


def _float32(value: float) -> float:
    if abs(value) > MAX_FLOAT:
        raise ValueError(f"expected at most {MAX_FLOAT:.3g}, float32's largest (torch computes in float32)")
    return value


Float32 = AfterValidator(_float32)  # a float torch can take as a float32 scalar
MAX_THREADS = 1_024

Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]
Epochs = Annotated[int, Field(gt=0, le=MAX_EPOCHS)]
BatchSize = Annotated[int, Field(gt=0, le=MAX_BATCH_SIZE)]
Examples = Annotated[int, Field(gt=0, le=MAX_EXAMPLES)]
ImageSide = Annotated[int, Field(gt=0, le=MAX_IMAGE_SIDE)]
Count = Annotated[int, Field(gt=0, le=MAX_COUNT)]
Width = Annotated[int, Field(gt=0, le=MAX_WIDTH)]
Repeats = Annotated[int, Field(gt=0, le=MAX_REPEATS)]


def entries(default: list[int], min_length: int = 1):
    """A list field (one entry per layer, stage or milestone) of at most MAX_ENTRIES entries."""
    return Field(default_factory=lambda: list(default), min_length=min_length, max_length=MAX_ENTRIES)


def leaves_training_examples(section):
    """A data section's validation split is smaller than the training set it comes from: checked with the
    config, so a tuning space whose corner combines the two is refused before any trial, not when its data
    is built."""
    if section.validation is not None and section.train_size is not None and section.validation >= section.train_size:
        raise ValueError(
            f"data.validation={section.validation} holds out all of data.train_size={section.train_size}; "
            f"use at most {section.train_size - 1}, or a larger train_size"
        )
    return section
