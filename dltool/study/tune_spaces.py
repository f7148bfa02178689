"""compare-optimizers --tune's default search spaces, one per optimizer, in the manner of Schmidt, Schneider
& Hennig 2021 ("Descending through a Crowded Valley"): the learning rate log-uniform over several decades,
whatever the optimizer's default, plus its momentum-like hyperparameters where it has them. A space over
decades, not one centred on a hand-picked default, is what lets a tuned comparison say something about the
optimizer rather than about the default it was given.

`--tune-space lr` keeps the one-key search: the lr log-uniform from default / LR_RANGE to default * LR_RANGE.
Light (no torch): the command line and the README's table read it.
"""

from __future__ import annotations

from dltool.study.space import SpaceKey, parse_space

LR_RANGE = 30.0  # --tune-space lr: the default's neighbourhood, x1/30 to x30
LR_ONLY = "lr"  # the --tune-space value that asks for that

# optimizer -> its keys as --tune-space would give them
LITERATURE_SPACES: dict[str, tuple[str, ...]] = {
    "sgd": ("optimizer.lr=loguniform(1e-5,1)",),
    "momentum": ("optimizer.lr=loguniform(1e-5,1)", "optimizer.momentum=uniform(0,0.99)"),
    "adagrad": ("optimizer.lr=loguniform(1e-5,1)",),
    "rmsprop": ("optimizer.lr=loguniform(1e-5,1)", "optimizer.gamma=uniform(0.5,0.999)"),
    "adadelta": ("optimizer.lr=loguniform(1e-3,10)", "optimizer.rho=uniform(0.5,0.999)"),
    "adam": (
        "optimizer.lr=loguniform(1e-5,1)",
        "optimizer.betas=choice([0.9,0.999],[0.5,0.999],[0.9,0.99],[0.95,0.999])",
    ),
}


def lr_space(lr: float) -> SpaceKey:
    """The lr, log-uniform from lr / LR_RANGE to lr * LR_RANGE, written as --space would give it (so a tuning
    study of a comparison can be resumed as any other)."""
    return parse_space(f"optimizer.lr=loguniform({lr / LR_RANGE!r},{lr * LR_RANGE!r})")


def search_space(optimizer: str, options: dict, tune_space: tuple[str, ...]) -> list[SpaceKey]:
    """What an optimizer's tuning study searches: its literature space where no --tune-space is given (the
    lr around its default for an optimizer the literature has none for: newton); the lr around its default
    for `--tune-space lr`; that plus the given keys the optimizer takes otherwise."""
    if not tune_space and optimizer in LITERATURE_SPACES:
        return [parse_space(text) for text in LITERATURE_SPACES[optimizer]]
    extra = [parse_space(text, "--tune-space") for text in tune_space if text != LR_ONLY]
    return [lr_space(options["lr"]), *(entry for entry in extra if entry.key.split(".")[-1] in options)]
