"""Whatever the YAML text or the --set strings, `load_config` returns a valid Config or raises dltool's
UsageError (exit 2) with short lines: never another exception."""

from __future__ import annotations

import itertools

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dltool.config import NAMED_SECTIONS, Config, load_config, load_registries
from dltool.errors import UsageError

load_registries()
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SECTIONS = sorted(Config.model_fields)
# every key the schema knows, common or an entry's, and every name an entry or a choice has: generated
# configs then reach the entries' own validation, not only the unknown-key message
KEYS = sorted(
    {
        key
        for field in Config.model_fields.values()
        if hasattr(field.annotation, "model_fields")
        for key in field.annotation.model_fields
    }
    | {
        key
        for registry in NAMED_SECTIONS.values()
        for name in registry.names()
        for key in registry.get(name).options.model_fields
    }
)
NAMES = sorted({name for registry in NAMED_SECTIONS.values() for name in registry.names()}) + [
    "torch", "scratch", "auto", "cpu", "cuda", "fp16", "bf16", "epoch", "step",
]  # fmt: skip
TOKENS = [
    "model:", "data:", "seed:", "name:", " ", "  ", "\n", "- ", "[", "]", "{", "}", ",", ": ", "&a ", "*a", "&b ",
    "*b", "!!int ", "!!float ", "!!bool ", "!!timestamp ", "!!set ", "!!binary ", "!!omap ", "!!python/tuple ",
    "!custom ", "? ", "<<: ", "1", "-3", "0.5", "1e5", "0x", "0b", "0o7", "1:30", "9" * 25, "2001-13-45",
    "2001-12-14", "'", '"', "#", "\x00", "\t", "\x85", "\ufeff", "---", "...", "%YAML 1.1\n", "|", ">", "mlp",
    "null", "~", ".nan", ".inf", "\\", "_", "yes", "hidden", "lr",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(NAMES)
)
keys = st.sampled_from(KEYS) | st.text(max_size=8)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4))
sections = st.dictionaries(keys, values, max_size=6)
configs = st.dictionaries(st.sampled_from(SECTIONS) | keys, sections | scalars, max_size=8)


def near_valid(pair, optimizer, schedule, changes) -> dict:
    """A valid config (a model and a dataset of one task) with a few keys set to generated values."""
    config = dict(
        model={"name": pair[0]}, data={"name": pair[1]}, optimizer={"name": optimizer}, schedule={"name": schedule}
    )
    for section, key, value in changes:
        if isinstance(config.setdefault(section, {}), dict):
            config[section][key] = value
        else:
            config[section] = value
    return config


MODELS, DATASETS = NAMED_SECTIONS["model"], NAMED_SECTIONS["data"]
PAIRS = [
    (m, d) for m in MODELS.names() for d in DATASETS.names() if MODELS.get(m).traits.task == DATASETS.get(d).traits.task
]
small = scalars | st.lists(st.integers(min_value=-2, max_value=2**20) | st.floats(-2, 2), max_size=5)
change = st.tuples(st.sampled_from(SECTIONS), st.sampled_from(KEYS), small)
near_valid_configs = st.builds(
    near_valid,
    st.sampled_from(PAIRS),
    st.sampled_from(NAMED_SECTIONS["optimizer"].names()),
    st.sampled_from(NAMED_SECTIONS["schedule"].names()),
    st.lists(change, max_size=3),
)


def dump(value, flow: bool) -> str:
    return yaml.safe_dump(value, default_flow_style=flow, allow_unicode=True)


structured_yaml = st.builds(dump, configs | near_valid_configs, st.booleans())
token_yaml = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)
any_text = st.text(max_size=200)
value_texts = (
    st.text(max_size=20) | token_yaml | st.builds(lambda value: dump(value, True).removesuffix("\n...\n"), values)
)
dotted_keys = st.lists(st.sampled_from(KEYS + SECTIONS) | st.text(max_size=5), min_size=1, max_size=3).map(
    ".".join
) | st.builds("{}.{}".format, st.sampled_from(SECTIONS), st.sampled_from(KEYS))
overrides = st.lists(st.text(max_size=30) | st.builds(lambda k, v: f"{k}={v}", dotted_keys, value_texts), max_size=4)

counter = itertools.count()


def check_load(path, sets) -> None:
    try:
        config = load_config(path, sets)
    except UsageError as exc:
        message = str(exc)
        assert message and exc.exit_code == 2
        assert all(len(line) < 500 for line in message.splitlines()), message[:1000]
    else:
        assert isinstance(config, Config)


def write(folder, content: str | bytes):
    path = folder / f"c{next(counter)}.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))
    return path


@SETTINGS
@given(text=structured_yaml | token_yaml | any_text)
def test_any_yaml_text_gives_a_config_or_a_usage_error(tmp_path_factory, text):
    check_load(write(tmp_path_factory.getbasetemp(), text), ())


@SETTINGS
@given(content=st.binary(max_size=200))
def test_any_bytes_give_a_config_or_a_usage_error(tmp_path_factory, content):
    check_load(write(tmp_path_factory.getbasetemp(), content), ())


@SETTINGS
@given(sets=overrides)
def test_any_set_strings_give_a_config_or_a_usage_error(sets):
    check_load(None, sets)


@SETTINGS
@given(text=structured_yaml, sets=overrides)
def test_any_file_and_sets_together(tmp_path_factory, text, sets):
    check_load(write(tmp_path_factory.getbasetemp(), text), sets)


@SETTINGS
@given(data=near_valid_configs)
def test_a_valid_config_survives_its_own_dump(tmp_path_factory, data):
    """What load_config accepts, saved as the run's config.yaml, loads again to the same config."""
    try:
        config = load_config(write(tmp_path_factory.getbasetemp(), dump(data, False)))
    except UsageError:
        return
    assert load_config(write(tmp_path_factory.getbasetemp(), dump(config.to_dict(), False))) == config
