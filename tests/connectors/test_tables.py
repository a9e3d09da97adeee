"""The data files are validated at start, and errors name the file and the key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr, ValidationError

from connectors import ConfigError, ConnectorSettings, Ingestor
from gateway.settings import Settings


@pytest.fixture
def data_dir(tmp_path: Path, settings: Settings) -> Path:
    """A writable copy of the shipped tables."""
    target = tmp_path / "data"
    shutil.copytree(settings.connectors.data_dir, target)
    return target


def _edit(path: Path, **changes: object) -> None:
    table = yaml.safe_load(path.read_text(encoding="utf-8"))
    table.update(changes)
    path.write_text(yaml.safe_dump(table, allow_unicode=True), encoding="utf-8")


def _build(settings: Settings, data_dir: Path, **extra: object) -> Ingestor:
    section = ConnectorSettings(data_dir=data_dir, **extra)
    return Ingestor(settings.model_copy(update={"connectors": section}))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"categories": {"QA0603": "0699"}},
            r"12345\.yaml: categories\.QA0603: 0699 is not in categories\.yaml",
        ),
        ({"datum": "UNKNOWN"}, r"12345\.yaml: datum: .*never guessed|datum"),
        ({"timezone": "Asia/Beijing"}, r"timezone: .*unknown time zone"),
        ({"urgency": {"一般": "SOON"}}, r"urgency\.一般"),
        ({"colour": "red"}, r"colour: Extra inputs are not permitted"),
        ({"contact_key": "city-b"}, r"contact_key 'city-b'"),
    ],
)
def test_a_bad_channel_file_fails_at_start(
    settings: Settings, data_dir: Path, changes: dict[str, object], message: str
) -> None:
    """Typos in a channel file stop the Ingestor from being built, naming file and key."""
    _edit(data_dir / "channels" / "12345.yaml", **changes)
    with pytest.raises(ConfigError, match=message):
        _build(settings, data_dir)


def test_a_street_of_an_unknown_district_fails(settings: Settings, data_dir: Path) -> None:
    """districts.yaml cross-checks its street table."""
    path = data_dir / "districts.yaml"
    table = yaml.safe_load(path.read_text(encoding="utf-8"))
    table["streets"]["花木街道"] = "999999"
    path.write_text(yaml.safe_dump(table, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"streets\.花木街道: 999999 is not a district"):
        _build(settings, data_dir)


def test_missing_data_dir_is_a_config_error(settings: Settings, tmp_path: Path) -> None:
    """A wrong data_dir names the file it could not read."""
    with pytest.raises(ConfigError, match=r"categories\.yaml: cannot read"):
        _build(settings, tmp_path / "nowhere")


def test_named_contact_key(settings: Settings, data_dir: Path) -> None:
    """A channel may reference a named key from connectors.contact_keys."""
    _edit(data_dir / "channels" / "12345.yaml", contact_key="city-b")
    ingestor = _build(settings, data_dir, contact_keys={"city-b": SecretStr("other")})
    assert ingestor.context("12345").config.contact_key == "city-b"


def test_connector_settings_forbid_unknown_keys() -> None:
    """A typo in the connectors section of the config file is an error."""
    with pytest.raises(ValidationError, match="Extra inputs"):
        ConnectorSettings.model_validate({"http": {"max_body_byte": 10}})
