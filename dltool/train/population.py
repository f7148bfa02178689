"""The population engine: members that share a model architecture, data, batch size and number of steps,
and differ in optimizer, hyperparameters, schedule, impl of the optimizer and seed, train together in one
process as one stacked computation.

Each member keeps all a lone run has: its own Setup (parameters from its seed, its optimizer and schedule,
its data order), run folder, records, checkpoints and summary. Only the forward and backward passes are
shared: at each step the members' parameters are stacked into [members, ...] tensors, each member's batch
is gathered from its own seeded order, one stacked forward (train/stacked.py) gives every member's loss and
one backward every member's gradient. Each member's own optimizer (scratch or torch.optim: the same code
as alone) then steps its own parameters with its slice of that gradient, so its losses equal a lone run's
(bit for bit on Fashion-MNIST; airfoil's 5-input layer rounds its last bit otherwise, 2e-7 relative).
A member's `time` is the population's clock: its members trained together.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import torch
from torch.func import vmap

from dltool.config import Config
from dltool.registry import DATASETS, OPTIMIZERS
from dltool.store.record_writers import RecordWriters
from dltool.store.run import Run
from dltool.train.build import build_rank_setup
from dltool.train.checkpoint import save_checkpoint
from dltool.train.distributed import World
from dltool.train.engine import Diverged, Hooks, Interrupted, Pruned, StopFlag, Trainer
from dltool.train.run import create_run, mark_running, record_outcome
from dltool.train.setup import Position, Setup
from dltool.train.stacked import stacked_forward
from dltool.train.threads import ThreadShare

# Models without buffers or randomness in training (batch norm's running statistics, dropout): their
# members' forward is a pure function of parameters and batch, so it stacks
POPULATION_MODELS = frozenset({"linreg", "softmax", "mlp"})


def population_key(config: Config) -> str | None:
    """What members must share to train as one population (JSON); None where a member cannot join one:
    a model outside POPULATION_MODELS, low precision, TensorBoard, or Newton's method (it differentiates its
    gradient again). A population is one process: a run under torchrun is never a member."""
    if (
        config.model.name not in POPULATION_MODELS
        or config.precision not in ("auto", "fp32")
        or config.train.tensorboard
        or OPTIMIZERS.get(config.optimizer.name).traits.second_order
    ):
        return None
    shared = config.to_dict()
    shared = {key: shared[key] for key in ("model", "data", "train", "device", "threads")}
    if DATASETS.get(config.data.name).traits.seeded:
        shared["seed"] = config.seed  # its data is drawn from the seed: other seeds, other data
    return json.dumps(shared, sort_keys=True)


@dataclass
class Member:
    """One member of a population: its run, Setup and Trainer, and how it ended (None while it trains)."""

    config: Config
    run: Run
    trainer: Trainer
    records: RecordWriters
    status: str | None = None
    exit_code: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def setup(self) -> Setup:
        return self.trainer.setup

    def end(self, status: str, exit_code: int, **extra) -> None:
        self.status, self.exit_code, self.extra = status, exit_code, extra


def start_member(config: Config, data, runs_dir, study: str | None, watch=None) -> Member:
    """A member's Setup on the population's shared data, its run folder and Trainer; `watch` sees its records
    (a tuning trial's pruner)."""
    setup = build_rank_setup(config, World(), data)
    if watch is not None:
        watch.ready()
    run = create_run(config, setup, runs_dir, study)
    records = RecordWriters(run, False, watch)
    hooks = Hooks(records.write, lambda at: save_checkpoint(run, setup, at), lambda **_: None)
    trainer = Trainer(setup, Position(), hooks, config.train.eval_every_examples, config.train.checkpoint_every_steps)
    mark_running(run, config, 0, None)
    return Member(config, run, trainer, records)


class Live:
    """The members still training, and their parameters as [members, ...] tensors: each member's own
    parameters are views of its row, so the forward reads them without copying and each member's own
    optimizer updates its row in place (its state_dict and checkpoint are those of a lone run). Stacked
    again when a member ends."""

    def __init__(self, members: list[Member]) -> None:
        self.steppers = {id(member): OptimizerStep(member.setup.optimizer) for member in members}
        self.stack([member for member in members if member.status is None])

    def stack(self, members: list[Member]) -> None:
        self.members = members
        own = [dict(member.setup.model.named_parameters()) for member in members]
        self.tensors: dict[str, torch.Tensor] = {}
        for name in own[0] if own else ():
            stacked = torch.stack([params[name].detach() for params in own])
            for row, params in zip(stacked, own):
                params[name].data = row
            self.tensors[name] = stacked
        self.params = [list(params.values()) for params in own]

    def drop_ended(self) -> None:
        still = [member for member in self.members if member.status is None]
        if len(still) < len(self.members):
            self.stack(still)


class OptimizerStep:
    """A member's optimizer.step(). The first call goes through it as it is (its scheduler checks that it was
    called); later ones call the step function itself, without the wrappers that only watch it: torch's
    profiler hook and the scheduler's call tracker (measured on airfoil: Adam 93 -> 64 us per step, SGD
    18 -> 10). dltool registers no optimizer step hooks, the one thing those wrappers would run."""

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self.optimizer = optimizer
        self.bare = type(optimizer).step
        while hasattr(self.bare, "__wrapped__"):
            self.bare = self.bare.__wrapped__
        self.called = False

    def __call__(self) -> None:
        if self.called:
            with torch.no_grad():
                self.bare(self.optimizer)
        else:
            self.optimizer.step()
            self.called = True


def stacked_step(live: Live, indices: list[torch.Tensor]) -> list[float]:
    """One optimizer step of every live member: one stacked forward and backward, then each member's own
    optimizer on its slice of the gradient. Returns each member's batch mean loss."""
    members = live.members
    first = members[0].setup
    data, count = first.data, len(members)
    rows = torch.cat(indices)
    x = data.prepare(data.train_x.index_select(0, rows))
    x = x.view(count, -1, *x.shape[1:])
    y = data.train_y.index_select(0, rows)
    y = y.view(count, -1, *y.shape[1:])
    leaves = {name: tensor.detach().requires_grad_() for name, tensor in live.tensors.items()}

    outs = stacked_forward(first.model, leaves, x)
    losses = vmap(first.loss_fn)(outs.float(), y)  # each member's mean over its batch
    grads = torch.autograd.grad(losses.sum(), list(leaves.values()))
    values = losses.detach().tolist()
    classify = data.task == "classification"
    correct = (outs.detach().argmax(dim=-1) == y).sum(1).tolist() if classify else [0] * count
    for i, member in enumerate(members):
        for param, grad in zip(live.params[i], grads):
            param.grad = grad[i]
        live.steppers[id(member)]()
        values[i] = member.trainer.stepped(values[i], correct[i], len(indices[i]))
    return values


def guarded(member: Member, action) -> None:
    """Run one member's part of a step; a member that diverges or is stopped ends alone."""
    try:
        action()
    except Diverged as exc:
        member.end("diverged", 1, error=str(exc), diverged_at_step=exc.step)
    except Interrupted as exc:
        member.end("interrupted", 128 + exc.signum, error=str(exc))
    except Pruned as exc:
        member.end("pruned", 0, pruned_at_step=exc.step)


def fit_population(members: list[Member], epochs: int, stop: StopFlag) -> None:
    """Every member's epochs in lockstep; members that end (diverged, interrupted) drop out. Their clocks
    start together, here: the population's clock, not counting the members' folders made one after another
    (their initial evaluations were 3-30 ms apart on airfoil, staggering the starts of loss_time.png)."""
    started = time.perf_counter()
    for member in members:
        member.trainer.start_clock(started)
        member.trainer.stop = stop
        member.setup.model.train()
        if member.trainer.eval_every:
            guarded(member, member.trainer.record_eval)  # the notes' curves start at the initial loss
    live = Live(members)
    for _ in range(epochs):
        orders = {id(member): member.setup.batches.epoch(member.setup.device) for member in live.members}
        for _ in range(len(live.members[0].setup.batches) if live.members else 0):
            indices = [next(orders[id(member)]) for member in live.members]
            for member, index, loss in zip(live.members, indices, stacked_step(live, indices)):
                guarded(
                    member, lambda member=member, index=index, loss=loss: member.trainer.after_step(len(index), loss)
                )
            live.drop_ended()
            if not live.members:
                return
        for member in live.members:
            guarded(member, member.trainer.end_epoch)
        live.drop_ended()
    for member in live.members:
        member.trainer.record_test()
        member.end("completed", 0)


def train_population(configs: list[Config], runs_dir, study: str | None, watches=None) -> list[Member | Exception]:
    """Train `configs` (one population_key) together; each member's folder records how it ended. A member
    whose Setup could not be built (bad input) is its exception in the list, and the others go on.
    `watches`: each member's (a tuning trial's pruner), or None."""
    with ThreadShare(configs[0].threads):  # the members' one setting (it is in population_key)
        started = start_members(configs, runs_dir, study, watches or [None] * len(configs))
        members = [member for member in started if isinstance(member, Member)]
        if members:
            train_together(members)
        return started


def start_members(configs: list[Config], runs_dir, study: str | None, watches: list) -> list[Member | Exception]:
    """Each member's Setup and folder, the data built once and shared."""
    started: list[Member | Exception] = []
    data = None
    for config, watch in zip(configs, watches):
        try:
            member = start_member(config, data, runs_dir, study, watch)
        except Exception as exc:  # this member's input: the others go on without it
            started.append(exc)
            continue
        data = data or member.setup.data
        started.append(member)
    return started


def train_together(members: list[Member]) -> None:
    wall_start = time.perf_counter()
    with StopFlag() as stop:
        try:
            fit_population(members, members[0].config.train.epochs, stop)
        except Exception as exc:  # the shared step failed: every member still training fails with it
            for member in members:
                if member.status is None:
                    member.end("failed", 1, error=f"{type(exc).__name__}: {exc}")
        except KeyboardInterrupt:
            for member in members:
                if member.status is None:
                    member.end("interrupted", 130, error="stopped at once by a second SIGINT")
        stop.finishing = True
        for member in members:
            member.records.close()
            record_outcome(member.run, member.trainer, member.status, member.extra, wall_start)
