"""The scratch optimizers take torch.optim.Optimizer's methods without their dynamo wrapper: a scratch
run never imports torch._dynamo (1.1 s), and the methods still behave as torch's."""

from __future__ import annotations

import subprocess
import sys

import torch

from dltool.optim.scratch import Momentum

SCRATCH_RUN = """
import sys
from dltool.config import load_config
from dltool.train.build import build_setup
from dltool.train.engine import Hooks, Trainer
from dltool.train.setup import Position
setup = build_setup(load_config(sys.argv[1], ["data.train_size=64", "optimizer.name=adam", "optimizer.lr=0.01"]))
trainer = Trainer(setup, Position(), Hooks(lambda r: None, lambda p: None, lambda **f: None), None)
for index in setup.batches.epoch(setup.device):
    trainer.train_step(index)
setup.optimizer.load_state_dict(setup.optimizer.state_dict())
setup.optimizer.zero_grad()
print("torch._dynamo" in sys.modules)
"""


def test_a_scratch_run_never_imports_dynamo():
    from tests.conftest import CONFIGS

    result = subprocess.run(
        [sys.executable, "-c", SCRATCH_RUN, str(CONFIGS / "mlp_scratch.yaml")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "False"


def momentum_pair(lr: float) -> tuple[Momentum, list[torch.nn.Parameter]]:
    weights = [torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.zeros(2))]
    optimizer = Momentum(weights[:1], lr=lr, momentum=0.9, weight_decay=0.0)
    optimizer.add_param_group({"params": weights[1:], "lr": 0.5})
    return optimizer, weights


def test_the_plain_methods_keep_torchs_behaviour():
    optimizer, weights = momentum_pair(lr=0.1)
    assert [group["lr"] for group in optimizer.param_groups] == [0.1, 0.5]
    for weight in weights:
        weight.grad = torch.ones_like(weight)
    optimizer.step()
    copy, copied = momentum_pair(lr=1.0)
    copy.load_state_dict(optimizer.state_dict())
    assert [group["lr"] for group in copy.param_groups] == [0.1, 0.5]  # loaded, not the constructor's
    assert torch.equal(copy.state[copied[0]]["velocity"], optimizer.state[weights[0]]["velocity"])
    optimizer.zero_grad(set_to_none=False)
    assert all(torch.equal(weight.grad, torch.zeros_like(weight)) for weight in weights)
    optimizer.zero_grad()
    assert all(weight.grad is None for weight in weights)
