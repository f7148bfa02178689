"""How dltool's commands parse and describe their options, beyond Typer's defaults: a did-you-mean for a
mistyped closed choice (`--status complete` -> 'completed'; Typer has one only for command names), flags
that read as flags in --help (Typer 0.29 labels them `<bool>`, as if they took a value), and long lists
of choices in the help text rather than folded into the type column."""

from __future__ import annotations

from enum import Enum

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption

from dltool.errors import did_you_mean, excerpt

LONG_CHOICES = 24  # characters of a choices label (<a|b|c>) that fit --help's type column at 80 columns


class HelpLayout:
    """--help's type column: a flag (--quiet, --help) shows none, as it takes no value; a number with a
    range shows as <int> [1<=x<=1000], not <int range> [1<=x<=1000]; a long list of choices (--status)
    shows as <status>, its choices in the help text, where they wrap between words instead of being
    folded mid-word into a narrow column."""

    def get_params(self, ctx):
        params = super().get_params(ctx)
        for param in params:
            if not isinstance(param, TyperOption) or param.metavar is not None:
                continue  # a metavar of its own, or already laid out (get_params is called more than once)
            if param.is_flag:
                param.metavar = ""
            elif param.type_descriptor.is_ranged:  # the range follows it: [1<=x<=1000]
                param.metavar = f"<{param.type_descriptor.ranged_type_name}>"
            elif param.type_descriptor.is_choice and len(param.display_type(ctx)) > LONG_CHOICES:
                param.metavar = f"<{param.name}>"
                names = ", ".join(choice_names(param.type_descriptor.choices))
                param.help = f"{param.help or ''} One of: {names}.".strip()
        return params


class Command(HelpLayout, TyperCommand):
    """A dltool command: Typer's, with the help layout above and a did-you-mean for a mistyped choice."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        given = list(args)  # the parser consumes its list
        try:
            return super().parse_args(ctx, args)
        except typer.BadParameter as exc:
            param = exc.param
            if isinstance(param, TyperOption) and param.type_descriptor.is_choice:
                raw = self.make_parser(ctx).parse_args(args=given)[0].get(param.name)  # the tokens, as typed
                exc.message = choice_message(raw, param.type_descriptor.choices) or exc.message
            raise


class Group(HelpLayout, TyperGroup):
    pass


def choice_message(raw, choices) -> str | None:
    """The message for the first given value (of one, or of a repeated option) that is not a choice, e.g.
    `'complete' is not one of running, completed, ... (did you mean 'completed'?)`; None when each is one."""
    names = choice_names(choices)
    given = raw if isinstance(raw, (list, tuple)) else [raw]
    bad = next((str(value) for value in given if value is not None and str(value) not in names), None)
    if bad is None:
        return None
    return f"'{excerpt(bad)}' is not one of {', '.join(names)}{did_you_mean(bad.lower(), names)}"


def choice_names(choices) -> list[str]:
    return [str(choice.value) if isinstance(choice, Enum) else str(choice) for choice in choices]
