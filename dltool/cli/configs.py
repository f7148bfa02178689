"""`dltool configs`: the configs dltool ships, one line each (what it trains, how, for how long), so a user
outside the repository can name one: `dltool train mlp_torch`."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from dltool.cli.common import user_errors
from dltool.errors import UsageError
from dltool.shipped import SHIPPED, shipped_names
from dltool.text import printable


@user_errors
def configs() -> None:
    """The configs dltool ships: name, model, data, optimizer, epochs; give the name as CONFIG to train,
    compare-optimizers, sweep or tune."""
    from dltool.cli.views import make_console
    from dltool.config import load_config  # pydantic: only when the command runs, not for --help

    table = Table()
    for heading in ("name", "model", "data", "optimizer", "epochs"):
        table.add_column(heading)
    for name in shipped_names():
        try:
            config = load_config(SHIPPED / f"{name}.yaml")  # validated: the defaults filled in as a run gets them
        except UsageError as exc:  # a damaged file in an installation: said in its row, the others still listed
            table.add_row(name, Text(printable(str(exc))), "", "", "")
            continue
        model, optimizer = config.model, config.optimizer
        table.add_row(name, f"{model.name} · {model.impl}", config.data.name, f"{optimizer.name} · {optimizer.impl}",
                      str(config.train.epochs))  # fmt: skip
    console = make_console()
    console.print(f"shipped configs in {SHIPPED}", markup=False, highlight=False)
    console.print(table)
    console.print("train one by name: dltool train NAME (e.g. dltool train mlp_torch)", markup=False, highlight=False)
