"""``marksocr harvest``: digit crops cut by the real reader from synthetic sheets, then ``train --extra``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from marksocr.cli.main import main
from marksocr.paths import resources_dir
from marksocr.sheets.harvest import keep_crop
from marksocr.sheets.synth import GENERATOR_VERSION


def test_a_misread_crop_of_a_free_string_is_kept_only_when_it_looks_a_little_like_the_digit():
    assert keep_crop("7", ["7", "1", "2"], "7", in_cell=False)
    assert keep_crop("1", ["1", "7", "4"], "7", in_cell=False)       # a 7 read as 1: a hard example
    assert not keep_crop("6", ["6", "5", "0"], "4", in_cell=False)   # likely a piece or a pair
    assert keep_crop("6", ["6", "5", "0"], "4", in_cell=True)        # a comb cell holds one digit


@pytest.mark.slow
def test_harvest_writes_labelled_crops_that_train_reads(tmp_path, mnist_dir, classifier, capsys):
    from marksocr.recognition.mnist import load_mnist
    from marksocr.recognition.train import load_extra

    template = resources_dir() / "templates" / "marksocr_a4" / "template.json"
    out = tmp_path / "crops"
    assert main(["harvest", "--out", str(out), "--template", str(template), "--sheets", "2",
                 "--styles", "scan,photo", "--data", str(mnist_dir)]) == 0
    manifest = json.loads((out / "harvest.json").read_text())
    files = {d: sorted((out / str(d)).glob("*.png")) for d in range(10)}
    assert [len(files[d]) for d in range(10)] == manifest["counts"]["per_digit"]
    assert manifest["counts"]["sheets"] == 4 and manifest["counts"]["failed"] == 0
    # A sheet holds 8 + 5 id digits and 10 marks with a total: most fields are kept.
    assert manifest["counts"]["crops"] >= 4 * 20
    assert manifest["recipe"]["mnist_split"] == "train"
    assert manifest["recipe"]["generator"] == GENERATOR_VERSION  # which handwriting the crops were cut from
    assert manifest["model"]["version"] == classifier.version
    # Files inside the checkout are named relative to it: the card carries no one's home folder.
    assert manifest["recipe"]["templates"][0]["file"] == "resources/templates/marksocr_a4/template.json"
    assert manifest["model"]["file"] == "models/digits.keras"
    assert manifest["mnist"] == dict(load_mnist("train", mnist_dir).checksums)

    # Each crop sits in the folder of the digit written there: the model agrees on nearly all.
    images, labels = load_extra(out)
    assert len(labels) == manifest["counts"]["crops"]
    read = classifier.predict_proba(list(255 - images)).argmax(1)
    assert np.mean(read == labels) > 0.9

    # Harvesting into the same folder again would mix two recipes: refused.
    capsys.readouterr()
    assert main(["harvest", "--out", str(out), "--template", str(template), "--sheets", "1",
                 "--data", str(mnist_dir)]) != 0
    assert "already holds a harvest" in capsys.readouterr().err

    # The model trained on them records where its extra digits came from.
    model = tmp_path / "m.keras"
    assert main(["train", "--data", str(mnist_dir), "--extra", str(out), "--epochs", "1", "--limit", "500",
                 "--arch", "seed003", "--out", str(model)]) == 0
    card = json.loads(model.with_suffix(".json").read_text())
    assert card["data"]["extra_digits"] == manifest["counts"]["crops"]
    assert card["data"]["extra"]["source"] == "marksocr harvest"
    assert card["data"]["extra"]["recipe"] == manifest["recipe"]


@pytest.mark.parametrize("args, message", [
    (["--styles", "scan,fax"], "unknown style(s) fax"),
    (["--sheets", "0"], "--sheets must be at least 1"),
])
def test_bad_harvest_settings_are_clear_errors(tmp_path, args, message, capsys):
    template = resources_dir() / "templates" / "marksocr_a4" / "template.json"
    assert main(["harvest", "--out", str(tmp_path / "c"), "--template", str(template), *args]) != 0
    assert message in capsys.readouterr().err


def test_a_corrupt_harvest_manifest_stops_training_before_it_starts(tmp_path, capsys):
    extra = tmp_path / "crops"
    extra.mkdir()
    (extra / "harvest.json").write_text("{not json")
    assert main(["train", "--extra", str(extra), "--limit", "500", "--epochs", "1", "--out", str(tmp_path / "m.keras")]) != 0
    assert "not a readable harvest manifest" in capsys.readouterr().err
    assert not (tmp_path / "m.keras").exists()
