"""The plots section: the formats of a run's own pictures (PNG alone unless asked), validated like any key."""

from __future__ import annotations

import pytest

from dltool.config import Config, dump_config, load_config
from dltool.errors import UsageError
from tests.conftest import CONFIGS, write

AIRFOIL = CONFIGS / "linreg_airfoil_scratch.yaml"


def test_default_is_png_alone_and_is_saved_with_the_run():
    config = load_config(AIRFOIL)
    assert config.plots.formats == ["png"]
    assert config.to_dict()["plots"] == {"formats": ["png"]}
    assert Config().plots.formats is not Config().plots.formats  # no default list shared between configs


@pytest.mark.parametrize("value, formats", [("[png,svg]", ["png", "svg"]), ("[pdf]", ["pdf"]),
                                            ("[svg, png, pdf]", ["svg", "png", "pdf"])])  # fmt: skip
def test_set_overrides_the_formats(value, formats, tmp_path):
    config = load_config(AIRFOIL, [f"plots.formats={value}"])
    assert config.plots.formats == formats
    again = load_config(write(tmp_path / "saved.yaml", dump_config(config)))  # the run's config.yaml repeats it
    assert again == config


def test_formats_from_the_file(tmp_path):
    path = write(tmp_path / "c.yaml", "plots: {formats: [svg]}\n")
    assert load_config(path).plots.formats == ["svg"]


@pytest.mark.parametrize(
    "sets, fragments",
    [
        (["plots.formats=[jpg]"], ["--set plots.formats=[jpg]", "'png', 'svg' or 'pdf'", "got 'jpg'"]),
        (["plots.formats=[svgg]"], ["did you mean 'svg'"]),
        (["plots.formats=[png,svg,png]"], ["each format at most once"]),
        (["plots.formats=[]"], ["at least 1 item"]),
        (["plots.formats=png"], ["valid list"]),
        (["plots.formats=[1]"], ["'png', 'svg' or 'pdf'"]),
        (["plots.format=[png]"], ["unknown key (did you mean 'formats'?)", "valid keys here: formats"]),
        (["plots=png"], ["plots"]),
    ],
)
def test_bad_formats_are_refused_with_the_key_and_the_choices(sets, fragments):
    with pytest.raises(UsageError) as caught:
        load_config(AIRFOIL, sets)
    assert caught.value.exit_code == 2
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_bad_format_in_a_file_names_the_file_and_key(tmp_path):
    path = write(tmp_path / "c.yaml", "plots: {formats: [png, gif]}\n")
    with pytest.raises(UsageError, match=r"c\.yaml: plots\.formats\.1: .*'png', 'svg' or 'pdf'"):
        load_config(path)
