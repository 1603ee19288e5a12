"""Settings: defaults < LEAPSLD_* < flags; every setting and command documented in the README."""

from __future__ import annotations

import dataclasses
import re
import typing

import pytest

from leapsld.cli import main
from leapsld.errors import BadRequest
from leapsld.settings import Settings, SettingsChanges, documented_settings

from .conftest import ROOT


def test_environment_overrides_defaults_and_flags_override_environment() -> None:
    env = {"LEAPSLD_PORT": "9001", "LEAPSLD_TRUST_PROXY": "yes", "LEAPSLD_QUERY_TIMEOUT": "2.5"}
    assert Settings.from_env(env).port == 9001
    assert Settings.from_env(env).trust_proxy is True
    assert Settings.from_env(env).query_timeout == 2.5
    assert Settings.from_env(env, port=9002).port == 9002


@pytest.mark.parametrize(
    "env",
    [
        {"LEAPSLD_PORT": "eighty"},
        {"LEAPSLD_TRUST_PROXY": "maybe"},
        {"LEAPSLD_INFER": "magic"},
        {"LEAPSLD_BASE_IRI": "https://x.org/no-slash"},
        {"LEAPSLD_MAX_ROWS": "0"},
    ],
)
def test_bad_values_are_named(env: dict[str, str]) -> None:
    with pytest.raises(BadRequest):
        Settings.from_env(env)


def test_settings_changes_names_every_setting_as_optional() -> None:
    hints = typing.get_type_hints(SettingsChanges)
    fields = typing.get_type_hints(Settings)
    assert list(hints) == [f.name for f in dataclasses.fields(Settings)]
    for name, hint in hints.items():
        assert hint == fields[name] | None, name


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in documented_settings():
        assert f"LEAPSLD_{name.upper()}" in readme, name


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for command in main.commands:
        assert re.search(rf"leapsld {command}\b", readme), command
