"""Template loading and validation: valid files load; every error names the file and the key."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from marksocr.domain import FieldKind, TemplateError
from marksocr.template import load_template, save_template, template_to_dict

VALID = {
    "schema": "marksocr.template/1",
    "name": "B.Tech end-semester answer book, cover page",
    "reference_image": "blank.png",
    "fields": [
        {"name": "roll_no", "kind": "roll_no", "box": [0.29, 0.13, 0.40, 0.045], "cells": 8},
        {"name": "subject_code", "kind": "subject_code", "box": [0.29, 0.20, 0.25, 0.045], "cells": 5},
        {"name": "Q1", "kind": "mark", "box": [0.52, 0.40, 0.26, 0.04], "max": 10},
        {"name": "total", "kind": "total", "box": [0.52, 0.85, 0.26, 0.04]},
    ],
}


def _write(tmp_path: Path, data, name: str = "T.json", image: bool = True) -> Path:
    if image:
        Image.fromarray(np.full((140, 100), 255, np.uint8)).save(tmp_path / "blank.png")
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def _error(tmp_path: Path, data, **kw) -> str:
    path = _write(tmp_path, data, **kw)
    with pytest.raises(TemplateError) as info:
        load_template(path)
    return str(info.value)


def test_valid_template_loads(tmp_path):
    t = load_template(_write(tmp_path, VALID))
    assert t.name == VALID["name"]
    assert [f.name for f in t.fields] == ["roll_no", "subject_code", "Q1", "total"]
    assert t.fields[0].kind is FieldKind.ROLL_NO and t.fields[0].cells == 8
    assert t.field_named("Q1").max == 10.0
    assert t.field_named("total").max is None and t.field_named("total").cells is None
    assert t.fields[2].box == (0.52, 0.40, 0.26, 0.04)
    assert t.reference_image == (tmp_path / "blank.png").resolve()
    assert t.page_size == (100, 140)  # from the reference image when absent
    assert [f.name for f in t.mark_fields] == ["Q1"]


def test_reference_image_is_relative_to_template_file(tmp_path, monkeypatch):
    sub = tmp_path / "templates" / "mine"
    sub.mkdir(parents=True)
    (sub / "img").mkdir()
    Image.fromarray(np.zeros((10, 20), np.uint8)).save(sub / "img" / "ref.png")
    data = dict(VALID, reference_image="img/ref.png")
    (sub / "T.json").write_text(json.dumps(data))
    monkeypatch.chdir(tmp_path)  # somewhere else than the template's folder
    t = load_template(Path("templates/mine/T.json"))
    assert t.reference_image == (sub / "img" / "ref.png").resolve()
    assert t.page_size == (20, 10)


def test_unknown_keys_are_ignored_but_kept(tmp_path):
    data = copy.deepcopy(VALID)
    data["printed_by"] = "exam cell"
    data["fields"][2]["colour"] = "red"
    data["fields"].append({"name": "remarks", "kind": "signature", "box": [0.1, 0.9, 0.3, 0.05]})
    t = load_template(_write(tmp_path, data))
    assert t.raw["printed_by"] == "exam cell"
    assert t.field_named("Q1").extra == {"colour": "red"}
    assert t.field_named("remarks").kind == "signature"


@pytest.mark.parametrize("key", ["fields", "reference_image"])
def test_missing_top_level_key_names_key_and_file(tmp_path, key):
    data = copy.deepcopy(VALID)
    del data[key]
    msg = _error(tmp_path, data)
    assert "T.json" in msg and repr(key) in msg


def test_missing_schema_and_name_are_accepted_with_a_warning(tmp_path, caplog):
    data = copy.deepcopy(VALID)
    del data["schema"], data["name"]
    t = load_template(_write(tmp_path, data, name="exam_cover.json"))
    assert t.name == "exam_cover" and len(t.fields) == 4
    assert "no 'schema' key" in caplog.text and "no 'name' key" in caplog.text


@pytest.mark.parametrize("key", ["name", "kind", "box"])
def test_missing_field_key_names_key_field_and_file(tmp_path, key):
    data = copy.deepcopy(VALID)
    del data["fields"][2][key]
    msg = _error(tmp_path, data)
    assert msg.startswith(str(tmp_path / "T.json") + ": fields[2]")
    assert f"missing key {key!r}" in msg


@pytest.mark.parametrize(
    "change, words",
    [
        ({"box": [0.5, 0.4, 0.6, 0.04]}, "beyond the page"),
        ({"box": [0.5, 0.4, 1.2, 0.04]}, "between 0 and 1"),
        ({"box": [0.5, 0.4, 0.2]}, "4 numbers"),
        ({"box": [0.5, 0.4, 0.0, 0.04]}, "greater than 0"),
        ({"box": "0.5 0.4"}, "4 numbers"),
        ({"cells": 0}, "at least 1"),
        ({"cells": 2.5}, "whole number"),
        ({"max": 0}, "greater than 0"),
        ({"max": "ten"}, "greater than 0"),
        ({"kind": 3}, "kind"),
        ({"name": "roll_no"}, "already used"),
    ],
)
def test_bad_field_values_are_clear_errors(tmp_path, change, words):
    data = copy.deepcopy(VALID)
    data["fields"][2].update(change)
    msg = _error(tmp_path, data)
    assert "T.json: fields[2]" in msg and words in msg


def test_wrong_schema_not_json_missing_file_and_missing_image(tmp_path):
    assert "schema" in _error(tmp_path, dict(VALID, schema="other/2"))
    assert "not valid JSON" in _error(tmp_path, "{not json", name="bad.json")
    assert "template must be a JSON object" in _error(tmp_path, [1, 2])
    with pytest.raises(TemplateError, match="nope.json: template file not found"):
        load_template(tmp_path / "nope.json")
    msg = _error(tmp_path, dict(VALID, reference_image="gone.png"))
    assert "T.json: reference_image" in msg and "gone.png" in msg and "not found" in msg
    assert "no fields" in _error(tmp_path, dict(VALID, fields=[]))


def test_reference_image_may_be_a_pdf_and_must_be_an_image(tmp_path):
    Image.fromarray(np.full((144, 72), 255, np.uint8)).save(tmp_path / "blank.pdf", resolution=72)
    t = load_template(_write(tmp_path, dict(VALID, reference_image="blank.pdf"), image=False))
    assert t.page_size == (200, 400)  # rendered at 200 dpi like every PDF page
    (tmp_path / "notes.png").write_text("not an image")
    msg = _error(tmp_path, dict(VALID, reference_image="notes.png"), image=False)
    assert "T.json: reference_image" in msg and "not an image" in msg


def test_markers_make_reference_image_optional(tmp_path):
    data = copy.deepcopy(VALID)
    del data["reference_image"]
    data["page_size"] = [2480, 3508]
    data["markers"] = {"dictionary": "DICT_4X4_50", "size": 0.06,
                       "positions": {"0": [0.03, 0.02], "1": [0.91, 0.02], "2": [0.03, 0.94], "3": [0.91, 0.94]}}
    t = load_template(_write(tmp_path, data, image=False))
    assert t.reference_image is None
    assert t.page_size == (2480, 3508)
    assert t.markers["positions"]["1"] == [0.91, 0.02]
    bad = copy.deepcopy(data)
    del bad["markers"]["size"]
    assert "markers: missing key 'size'" in _error(tmp_path, bad, image=False)
    bad = copy.deepcopy(data)
    bad["markers"]["dictionary"] = "DICT_9X9"
    assert "markers: dictionary" in _error(tmp_path, bad, image=False)
    assert "page_size" in _error(tmp_path, dict(data, page_size=[0, 10]), image=False)


def test_save_and_reload_round_trip(tmp_path):
    data = copy.deepcopy(VALID)
    data["fields"][2]["colour"] = "red"
    data["extra_top"] = {"a": 1}
    t = load_template(_write(tmp_path, data))
    out_dir = tmp_path / "copy"
    save_template(t, out_dir / "T2.json")
    t2 = load_template(out_dir / "T2.json")
    assert t2.fields == t.fields
    assert t2.reference_image == t.reference_image  # relative path rewritten for the new folder
    assert t2.raw["extra_top"] == {"a": 1}
    assert json.loads((out_dir / "T2.json").read_text())["reference_image"] == "../blank.png"
    assert template_to_dict(t)["fields"][2] == data["fields"][2]


def test_save_refuses_an_invalid_template(tmp_path):
    data = copy.deepcopy(VALID)
    del data["fields"][0]["box"]
    with pytest.raises(TemplateError, match=r"fields\[0\].*missing key 'box'"):
        save_template(data, tmp_path / "T.json")
    assert not (tmp_path / "T.json").exists()
