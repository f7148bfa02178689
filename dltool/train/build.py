"""A run's Setup built from its config, and what the run records about itself (env.json, its status card).

Everything that can be wrong with the input (config, device, data) is found here, before the run
folder is made, so bad input leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import replace

import torch
from torch import nn

from dltool import __version__
from dltool.config import Config
from dltool.data import build_dataset
from dltool.data.batches import EpochBatches
from dltool.data.dataset import Dataset
from dltool.models import build_loss, build_model
from dltool.models.batchnorm import BatchNorm
from dltool.models.sync_batchnorm import synchronize_batch_norm
from dltool.optim import build_optimizer, build_schedule
from dltool.registry import MODELS, OPTIMIZERS
from dltool.train.device import resolve_device, resolve_precision
from dltool.train.distributed import World, check_batches, check_distributed, rank_device
from dltool.train.setup import Setup

BATCH_NORMS = (nn.modules.batchnorm._BatchNorm, BatchNorm)  # torch's (and GlobalBatchNorm), the notes' own

# Separate seeded streams for the data, the initial parameters and the data order.
SEED_STREAMS = {"data": 0, "init": 1_000_003, "order": 2_000_003}


def stream_seed(seed: int, stream: str) -> int:
    return seed + SEED_STREAMS[stream]


def build_setup(config: Config, world: World | None = None) -> Setup:
    world = world or World()
    setup = world.together(lambda: build_rank_setup(config, world))
    # DDP's constructor is the first collective: every rank has got this far
    setup.train_model = world.wrap(setup.model, setup.device, config.model.sync_bn)
    return setup


def build_model_on_data(
    config: Config, world: World, data: Dataset | None = None
) -> tuple[torch.device, Dataset, nn.Module, str]:
    """This rank's device, its data and model there, and the precision: what can be wrong with the input
    is found here (the optimizer's hyperparameters were checked by the schema). `data`: already built
    for this config (a population's members share it), on the device."""
    check_distributed(config, world.size)
    device = rank_device(resolve_device(config.device), config.device, world)
    traits = MODELS.get(config.model.name).traits
    precision = resolve_precision(config.precision, device, traits.prefers_bf16)
    torch.manual_seed(config.seed)
    # channels_last lets oneDNN/cuDNN pick their fast conv kernels (DenseNet at 96: 1.3x in bf16 here).
    memory_format = torch.channels_last if traits.conv else torch.contiguous_format
    if data is None:
        data = build_dataset(config.data, stream_seed(config.seed, "data"))
        data = replace(data, memory_format=memory_format).to(device)
    model = build_rank_model(config, data, device, memory_format, world)
    check_batches(len(data.train_y), config.data.batch_size, world.size)
    return device, data, model, precision


def build_rank_setup(config: Config, world: World, data: Dataset | None = None) -> Setup:
    """Everything of this rank's Setup but the DDP wrapper; bad input raises UsageError here."""
    device, data, model, precision = build_model_on_data(config, world, data)
    optimizer = build_optimizer(config.optimizer, model.parameters())
    batch_norm = any(isinstance(module, BATCH_NORMS) for module in model.modules())
    batches = EpochBatches(len(data.train_y), config.data.batch_size, stream_seed(config.seed, "order"), batch_norm)
    return Setup(
        model=model,
        optimizer=optimizer,
        scheduler=build_schedule(config.schedule, optimizer, len(batches), config.train.epochs),
        loss_fn=build_loss(data.task, config.model.impl),
        scaler=torch.amp.GradScaler(device.type, enabled=precision == "fp16"),
        data=data,
        batches=batches,
        device=device,
        precision=precision,
        world=world,
        second_order=OPTIMIZERS.get(config.optimizer.name).traits.second_order,
        records_point=MODELS.get(config.model.name).traits.objective is not None,
    )


def build_rank_model(
    config: Config, data: Dataset, device: torch.device, memory_format: torch.memory_format, world: World
) -> nn.Module:
    """The model with its seeded initial parameters, on this rank's device in the data's memory format."""
    model = build_model(config.model, data.input_shape, data.num_outputs, stream_seed(config.seed, "init"))
    if config.model.sync_bn:
        model = synchronize_batch_norm(model, config.model.name, device, world.distributed)
    return model.to(device=device, memory_format=memory_format)


def environment(setup: Setup, config: Config) -> dict:
    """What env.json holds: versions, machine, device, precision, seed and command of the run."""
    from importlib.metadata import version

    import numpy

    device = setup.device
    return {
        "dltool": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": version("torchvision"),  # not imported: that alone takes 0.4 s
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "threads": config.threads,  # the setting; under auto the count may change while the run trains
        "torch_threads": torch.get_num_threads(),  # the count at the start
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.machine(),
        "precision": setup.precision,
        "seed": config.seed,
        "command": sys.argv,
        "world_size": setup.world.size,
        **cluster_node(),
    }


NODE_VARIABLE = "DLTOOL_CLUSTER_NODE"  # a JSON object: the cluster node this process trains on


def cluster_node() -> dict:
    """The cluster node a study's member trained on (set by its task, dltool.study.cluster_pool), or nothing."""
    node = os.environ.get(NODE_VARIABLE)
    return {"cluster": json.loads(node)} if node else {}


def run_card(config: Config, study: str | None = None) -> dict:
    """What `dltool runs` shows of a run's config, and the study it is a member of: kept in status.json
    so listing needs no YAML."""
    card = {
        "model": {"name": config.model.name, "impl": config.model.impl},
        "optimizer": {
            "name": config.optimizer.name,
            "impl": config.optimizer.impl,
            "lr": config.optimizer.options.get("lr"),
        },
        "data": {"name": config.data.name, "batch_size": config.data.batch_size},
    }
    return {**card, "study": study} if study else card
