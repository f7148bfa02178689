"""The configs dltool ships (dltool/configs, also configs/ in the repository): listed by `dltool configs`, and
found by name wherever a command takes a CONFIG, so that outside the repository `dltool train mlp_torch` does
what `dltool train configs/mlp_torch.yaml` does inside it. A path that exists always wins over a name."""

from __future__ import annotations

from pathlib import Path

SHIPPED = Path(__file__).parent / "configs"


def shipped_names() -> list[str]:
    return sorted(path.stem for path in SHIPPED.glob("*.yaml"))


def resolve_config(given: Path | None) -> Path | None:
    """The config file `given` names: itself where it exists, else a shipped config of that name (with or
    without .yaml); else `given` as it is (reading it says what is missing, with a did-you-mean)."""
    if given is None or given.exists() or len(given.parts) != 1:
        return given
    shipped = SHIPPED / (given.name if given.suffix in (".yaml", ".yml") else f"{given.name}.yaml")
    return shipped if shipped.is_file() else given
