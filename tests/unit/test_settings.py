"""Settings: defaults, the settings file, MARKSOCR_* variables, validation, database URL order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from marksocr import settings as st
from marksocr.settings import Settings, SettingsError, load_settings, resolve_db_url, save_settings


def test_defaults_without_a_file():
    s = load_settings()
    assert s.threshold == st.DEFAULT_THRESHOLD and s.db_url is None and s.roster is None
    assert s.operator  # the login name (or "operator")
    assert st.settings_path().parent.name == "marksocr"


def test_file_then_environment_override(monkeypatch):
    path = save_settings(Settings(threshold=0.8, operator="ann", roster=Path("/r/roster.csv")))
    assert path == st.settings_path() and path.is_file()
    s = load_settings()
    assert (s.threshold, s.operator, s.roster) == (0.8, "ann", Path("/r/roster.csv"))
    monkeypatch.setenv("MARKSOCR_THRESHOLD", "0.75")
    monkeypatch.setenv("MARKSOCR_OPERATOR", "bob")
    s = load_settings()
    assert (s.threshold, s.operator) == (0.75, "bob")
    assert load_settings(apply_env=False).operator == "ann"


@pytest.mark.parametrize("value", [1.5, -0.1, "high", True])
def test_invalid_threshold_in_file_names_key_and_file(value):
    path = st.settings_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"threshold": value}))
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert "threshold" in str(err.value) and str(path) in str(err.value)


def test_invalid_environment_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("MARKSOCR_THRESHOLD", "2")
    with pytest.raises(SettingsError, match="MARKSOCR_THRESHOLD.*threshold"):
        load_settings()


def test_broken_json_and_wrong_types_are_clear_errors():
    path = st.settings_path()
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(SettingsError, match="not valid JSON"):
        load_settings()
    path.write_text(json.dumps({"roster": 5}))
    with pytest.raises(SettingsError, match="'roster'"):
        load_settings()


def test_settings_are_validated_when_built_in_code():
    with pytest.raises(SettingsError, match="threshold"):
        Settings(threshold=3)


def test_resolve_db_url_order(monkeypatch, tmp_path):
    default = resolve_db_url(None)
    assert default.startswith("sqlite:///") and default.endswith("marksocr/marks.sqlite3")
    save_settings(Settings(db_url=str(tmp_path / "from_settings.db")))
    assert resolve_db_url(None) == "sqlite:///" + str(tmp_path / "from_settings.db")
    monkeypatch.setenv("MARKSOCR_DB", "postgresql+psycopg://u@h/db")
    assert resolve_db_url(None) == "postgresql+psycopg://u@h/db"
    assert resolve_db_url("rel/marks.db") == "sqlite:///" + str(Path("rel/marks.db").resolve())
    assert resolve_db_url(tmp_path / "p.db") == "sqlite:///" + str(tmp_path / "p.db")
