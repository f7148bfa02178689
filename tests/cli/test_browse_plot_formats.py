"""The formats of a run's pictures: PNG alone unless its config (plots.formats) or `dltool plot --format`
asks for more; the lr picture only for a run whose lr changed."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.conftest import CONFIGS, run_folders

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SVG_TAG = "{http://www.w3.org/2000/svg}svg"
SYNTHETIC = CONFIGS / "linreg_synthetic_scratch.yaml"  # 3 epochs of 100 steps: a second or so


@pytest.fixture
def train(dltool, runs_dir):
    """train(*sets): a run of `config` (the synthetic linear regression) with those --set overrides; its folder."""

    def run(*sets: str, config: Path = SYNTHETIC) -> Path:
        before = set(run_folders(runs_dir))
        result = dltool("train", config, "-q", *[arg for text in sets for arg in ("--set", text)])
        assert result.exit_code == 0, result.output
        (folder,) = set(run_folders(runs_dir)) - before
        return folder

    return run


def pictures(folder: Path) -> set[str]:
    return {path.name for path in (folder / "plots").iterdir()}


def assert_svg(path: Path) -> None:
    root = ElementTree.parse(path).getroot()
    assert root.tag == SVG_TAG and len(root) > 0 and path.stat().st_size > 5_000, path


def test_a_run_draws_every_png_and_no_svg(train):
    folder = train(config=CONFIGS / "linreg_airfoil_scratch.yaml")
    assert pictures(folder) == {"loss.png", "loss_examples.png"}  # and no lr picture: the lr was constant
    for name in pictures(folder):
        assert (folder / "plots" / name).read_bytes().startswith(PNG_MAGIC)
    assert pictures(train()) == {"loss.png"}  # no evaluation every N examples: no loss_examples


def test_a_config_asking_for_png_and_svg_gets_both(train, dltool, runs_dir):
    folder = train("plots.formats=[png,svg]", "schedule.name=exponential")
    assert pictures(folder) == {"loss.png", "loss.svg", "lr.png", "lr.svg"}
    assert_svg(folder / "plots" / "loss.svg")
    assert (folder / "config.yaml").read_text().count("formats:\n  - png\n  - svg") == 1  # saved with the run


def test_lr_picture_only_for_a_changing_rate(train, dltool, runs_dir):
    constant = train()
    scheduled = train("schedule.name=exponential")
    assert "lr.png" not in pictures(constant)
    assert pictures(scheduled) == {"loss.png", "lr.png"}
    result = dltool("plot", constant.name, "--metric", "lr", "--x", "step")  # asked for: still drawn
    assert result.exit_code == 0, result.output
    assert (constant / "plots" / "lr-vs-step.png").read_bytes().startswith(PNG_MAGIC)


def test_plot_format_svg_redraws_the_pictures_as_svg(train, dltool, runs_dir):
    folder = train("schedule.name=exponential")
    result = dltool("plot", folder.name, "--format", "svg")
    assert result.exit_code == 0, result.output
    for name in ("loss.svg", "lr.svg"):
        assert_svg(folder / "plots" / name)
        assert str(folder / "plots" / name) in result.output
    assert pictures(folder) == {"loss.png", "lr.png", "loss.svg", "lr.svg"}


def test_plot_format_repeated_and_plain_plot_draws_png(train, dltool, runs_dir):
    folder = train()
    for path in (folder / "plots").iterdir():
        path.unlink()
    result = dltool("plot", folder.name, "--format", "pdf", "--format", "svg", "--format", "pdf")
    assert result.exit_code == 0, result.output
    assert pictures(folder) == {"loss.pdf", "loss.svg"}
    assert len(result.output.splitlines()) == 2  # each format once
    assert (folder / "plots" / "loss.pdf").read_bytes().startswith(b"%PDF")
    assert dltool("plot", folder.name).exit_code == 0
    assert pictures(folder) == {"loss.pdf", "loss.svg", "loss.png"}


def test_plot_format_applies_to_the_overlay_of_several_runs(train, dltool, runs_dir):
    first, second = train(), train("optimizer.lr=0.01")
    result = dltool("plot", first.name, second.name, "--format", "svg", "--format", "png")
    assert result.exit_code == 0, result.output
    name = f"loss-vs-epoch-with-{second.name.rsplit('-', 1)[-1]}"  # in the first run's plots/, named by the other
    assert sorted(p.name for p in (first / "plots").iterdir() if p.stem == name) == [f"{name}.png", f"{name}.svg"]
    assert_svg(first / "plots" / f"{name}.svg")
    assert not (runs_dir / "plots").exists()
    one = dltool("plot", first.name, "--metric", "loss", "--x", "step", "--format", "svg")
    assert one.exit_code == 0, one.output
    assert_svg(first / "plots" / "loss-vs-step.svg")
    assert not (first / "plots" / "loss-vs-step.png").exists()


def test_out_goes_by_its_extension_and_format_must_agree(train, dltool, runs_dir, tmp_path):
    folder = train()
    agreed = dltool("plot", folder.name, "--out", tmp_path / "a.svg", "--format", "svg")
    assert agreed.exit_code == 0, agreed.output
    assert_svg(tmp_path / "a.svg")
    for formats in (["png"], ["svg", "png"]):
        args = [arg for fmt in formats for arg in ("--format", fmt)]
        result = dltool("plot", folder.name, "--out", tmp_path / "b.svg", *args)
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert result.output.startswith("error: --out") and "--format asks for" in result.output
        assert not (tmp_path / "b.svg").exists()


@pytest.mark.parametrize("value", ["jpg", "SVG ", ""])
def test_plot_bad_format_exits_2_with_the_choices(train, dltool, runs_dir, value):
    folder = train()
    result = dltool("plot", folder.name, "--format", value)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "Invalid value for '--format'" in result.output
    for choice in ("png", "svg", "pdf"):
        assert choice in result.output


@pytest.mark.parametrize(
    "value, fragment",
    [("[gif]", "Input should be 'png', 'svg' or 'pdf'"), ("[png,png]", "each format at most once"),
     ("[]", "at least 1 item"), ("png", "valid list")],
)  # fmt: skip
def test_train_with_a_bad_plots_format_exits_2(dltool, runs_dir, value, fragment):
    result = dltool("train", SYNTHETIC, "-q", "--set", f"plots.formats={value}")
    assert result.exit_code == 2 and fragment in result.output and "Traceback" not in result.output
    assert f"--set plots.formats={value}" in result.output
    assert run_folders(runs_dir) == []
