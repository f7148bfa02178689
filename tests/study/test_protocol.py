"""compare-optimizers' presets, from the library (dltool.study.protocol) to the command line: the
protocols' budgets, `--problem all`, and the choices and help the command line derives from them."""

from __future__ import annotations

import pytest

from dltool.cli import study as cli_study
from dltool.errors import UsageError
from dltool.study.problems import PROBLEMS
from dltool.study.protocol import ALL_PROBLEMS, PROTOCOLS, SUITE, budget, expand_problems


def test_the_protocols_budgets():
    assert budget("quick") == {"tune": 0, "seeds": 1}
    assert budget("quick", tune=8) == {"tune": 8, "seeds": 5}  # tuning defaults to 5 seeds
    assert budget("quick", seeds=3) == {"tune": 0, "seeds": 3}
    assert budget("full") == {"tune": 20, "seeds": 5}  # Schmidt et al.'s budget
    assert budget("full", seeds=2) == {"tune": 20, "seeds": 2}
    assert budget("full", tune=7, seeds=1) == {"tune": 7, "seeds": 1}  # what is given wins
    with pytest.raises(UsageError, match="did you mean 'full'"):
        budget("ful")


def test_all_stands_for_problems_of_the_library():
    assert set(ALL_PROBLEMS) <= set(PROBLEMS) and len(ALL_PROBLEMS) > 1
    assert expand_problems(["all"]) == expand_problems(["airfoil", "all"]) == ALL_PROBLEMS
    assert expand_problems(["quadratic2d", "all"]) == ("quadratic2d", *ALL_PROBLEMS)
    assert expand_problems(["suite", "all"]) == SUITE and len(SUITE) >= 8 and set(SUITE) <= set(PROBLEMS)
    assert expand_problems(["airfoil", "quadratic2d"]) == ("airfoil", "quadratic2d")


@pytest.fixture
def planned(monkeypatch):
    """compare-optimizers' (problems, request) as the command line hands them to the library; nothing runs."""
    seen = []
    monkeypatch.setattr(cli_study, "run_and_show", lambda problems, request, options: seen.append((problems, request)))
    return seen


def test_the_command_line_takes_the_librarys_presets(dltool, planned):
    for args in (
        ["--protocol", "full", "--problem", "all"],
        ["--problem", ",".join(PROBLEMS)],
        [],
        ["--problem", "suite"],
    ):
        result = dltool("compare-optimizers", "--jobs", "1", *args)
        assert result.exit_code == 0, result.output
    (everything, full), (listed, quick), (default, plain), (suite, _) = planned
    assert everything == ALL_PROBLEMS and (full.tune, full.seeds) == (20, 5) and suite == SUITE
    assert listed == tuple(PROBLEMS) and (quick.tune, quick.seeds) == (0, 1)
    assert default == () and plain.problem is None  # the plan's default problem (airfoil)


def test_the_help_lists_every_problem_and_protocol(dltool, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    text = " ".join(dltool("compare-optimizers", "-h").stdout.replace("│", " ").split())  # unwrapped
    assert f"all ({', '.join(ALL_PROBLEMS)}) or suite (the {len(SUITE)} problems of the README's suite): " in text
    assert f"suite): {', '.join(PROBLEMS)};" in text
    assert "<quick|full>" in text and list(PROTOCOLS) == ["quick", "full"]
    assert "quick: the given settings; full: --tune 20 --seeds 5 (Schmidt et al.'s budget" in text
