"""`marksocr ensemble`: models trained apart, averaged into one model file that loads like any other."""

from __future__ import annotations

import json

import numpy as np
import pytest

from marksocr.cli.main import main
from marksocr.recognition import DigitClassifier
from marksocr.recognition.calibration import softmax
from marksocr.recognition.mnist import load_mnist
from marksocr.recognition.normalize import normalize_batch


def _train(mnist_dir, out, arch, seed, *more):
    args = ["train", "--data", str(mnist_dir), "--epochs", "1", "--limit", "1500", "--arch", arch,
            "--seed", str(seed), *more, "--out", str(out)]
    assert main(args) == 0
    return out


@pytest.fixture(scope="module")
def members(tmp_path_factory, mnist_dir):
    d = tmp_path_factory.mktemp("members")
    return (_train(mnist_dir, d / "a.keras", "seed003", 5), _train(mnist_dir, d / "b.keras", "mlp", 6, "--split-seed", "5"),
            _train(mnist_dir, d / "c.keras", "mlp", 6))


@pytest.mark.slow
def test_the_ensemble_is_the_calibrated_mean_of_its_members(tmp_path, mnist_dir, members):
    a, b, _ = members
    out = tmp_path / "ens.keras"
    assert main(["ensemble", str(a), str(b), "--data", str(mnist_dir), "--out", str(out)]) == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["architecture"] == "ensemble"
    assert [m["architecture"] for m in card["members"]] == ["seed003", "mlp"]
    assert card["members"][0]["sha256"] == json.loads(a.with_suffix(".json").read_text())["sha256"]
    assert card["recipe"]["split_seed"] == 5 and card["metrics"]["test_digits"] == 10_000
    # which digits it was calibrated on, as a trained model's card says
    assert card["data"]["mnist"] == json.loads(a.with_suffix(".json").read_text())["data"]["mnist"]
    assert card["data"]["validation_digits"] > 0

    ens, ma, mb = DigitClassifier.load(out), DigitClassifier.load(a), DigitClassifier.load(b)
    test = load_mnist("test", mnist_dir)
    crops = list(255 - test.images[:300])
    x, _ = normalize_batch(crops)
    mean = (ma.predict_logits(x) / ma.temperature + mb.predict_logits(x) / mb.temperature) / 2
    np.testing.assert_allclose(ens.predict_proba(crops), softmax(mean, ens.temperature), atol=1e-5)
    # Two weak, different models together read better than the weaker one alone.
    acc = {name: float((m.predict_proba(crops).argmax(1) == test.labels[:300]).mean())
           for name, m in (("ens", ens), ("a", ma), ("b", mb))}
    assert acc["ens"] >= min(acc["a"], acc["b"])


@pytest.mark.slow
def test_members_of_different_validation_splits_are_refused(tmp_path, mnist_dir, members, capsys):
    a, _, c = members
    code = main(["ensemble", str(a), str(c), "--data", str(mnist_dir), "--out", str(tmp_path / "e.keras")])
    assert code == 1
    assert "not trained on the same validation split" in capsys.readouterr().err
    assert not (tmp_path / "e.keras").exists()


def test_one_model_is_no_ensemble(tmp_path, capsys):
    assert main(["ensemble", str(tmp_path / "a.keras"), "--out", str(tmp_path / "e.keras")]) == 1
    assert "at least two models" in capsys.readouterr().err
