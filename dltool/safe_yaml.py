"""The YAML dltool reads (config files and --set values): yaml.safe_load's rules, with two fixes.

'1e-3' is a float (YAML 1.1 wants '1.0e-3', which nobody writes), and a key written twice in one
mapping is an error (PyYAML would silently keep the last).
"""

from __future__ import annotations

import re

import yaml


class YamlLoader(yaml.SafeLoader):
    """A SafeLoader subclass: no python tags, nothing executed."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}' (it appears twice in one mapping)", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def safe_load(text: str):
    """The value in a YAML text; yaml.YAMLError (ConstructorError for a tag or a duplicate key) if none."""
    return yaml.load(text, Loader=YamlLoader)
