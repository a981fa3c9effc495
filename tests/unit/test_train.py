"""A one-epoch smoke training on a few thousand digits (batch 64: enough steps to learn), through the real command."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from marksocr.cli.main import main
from marksocr.recognition import DigitClassifier
from marksocr.recognition.mnist import load_mnist


@pytest.mark.slow
def test_smoke_training_writes_a_loadable_model_and_card(tmp_path, mnist_dir):
    out = tmp_path / "smoke.keras"
    code = main(["train", "--data", str(mnist_dir), "--epochs", "1", "--limit", "4000", "--batch-size", "64", "--out", str(out)])
    assert code == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["architecture"] == "default"
    assert card["recipe"]["epochs"] == 1 and card["recipe"]["limit"] == 4000
    assert len(card["history"]["loss"]) == 1
    assert card["data"]["train_digits"] == 4000
    assert set(card["data"]["mnist"]) == {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"}
    # One epoch on 3,000 digits is far from the shipped model, but clearly learns.
    assert card["metrics"]["test_accuracy"] > 0.8
    clf = DigitClassifier.load(out)
    test = load_mnist("test", mnist_dir)
    probs = clf.predict_proba(list(255 - test.images[:500]))
    assert (probs.argmax(1) == test.labels[:500]).mean() > 0.8


@pytest.mark.slow
def test_extra_crops_are_added_to_training(tmp_path, mnist_dir):
    extra = tmp_path / "extra"
    test = load_mnist("test", mnist_dir)
    for i in range(40):
        d = extra / str(int(test.labels[i]))
        d.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(d / f"{i}.png"), cv2.resize(255 - test.images[i], (56, 56)))
    out = tmp_path / "m.keras"
    assert main(["train", "--data", str(mnist_dir), "--extra", str(extra), "--epochs", "1",
                 "--limit", "1000", "--arch", "seed003", "--out", str(out)]) == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["data"]["extra_digits"] == 40
    assert card["data"]["train_digits"] == 1040


def test_missing_extra_folder_is_a_clear_error(tmp_path, mnist_dir, capsys):
    code = main(["train", "--data", str(mnist_dir), "--extra", str(tmp_path / "nope"), "--limit", "500",
                 "--epochs", "1", "--out", str(tmp_path / "m.keras")])
    assert code == 1
    assert "extra training folder not found" in capsys.readouterr().err
