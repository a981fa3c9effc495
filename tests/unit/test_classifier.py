"""The classifier contract (interfaces.md section 4) with the real shipped model."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from marksocr.domain import ModelError
from marksocr.paths import default_model_path
from marksocr.recognition import DigitClassifier
from marksocr.recognition.mnist import load_mnist

SHIPPED_MIN_ACCURACY = 0.995


def test_import_marksocr_does_not_import_tensorflow():
    code = "import sys, marksocr, marksocr.recognition, marksocr.cli.main; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_predict_proba_contract(classifier):
    rng = np.random.default_rng(0)
    crops = [np.full((h, w), 230, np.uint8) for h, w in [(10, 10), (300, 40), (28, 28)]]
    for c in crops:
        cv2.line(c, (c.shape[1] // 2, 2), (c.shape[1] // 2, c.shape[0] - 3), 20, max(1, c.shape[1] // 10))
    crops.append(rng.integers(0, 255, (57, 33), dtype=np.uint8))
    probs = classifier.predict_proba(crops)
    assert probs.shape == (4, 10)
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert (probs >= 0).all()
    assert classifier.predict_proba([]).shape == (0, 10)


def test_blank_crop_is_not_a_confident_digit(classifier):
    blank = [np.full((40, 40), 240, np.uint8), np.clip(np.random.default_rng(1).normal(210, 5, (64, 48)), 0, 255).astype(np.uint8)]
    probs = classifier.predict_proba(blank)
    assert probs.max() <= 0.2


def test_a_drawn_one_is_read_as_one(classifier):
    crop = np.full((120, 80), 235, np.uint8)
    cv2.line(crop, (42, 12), (38, 108), 25, 7, cv2.LINE_AA)
    probs = classifier.predict_proba([crop])[0]
    assert probs.argmax() == 1 and probs[1] > 0.8


def test_large_batches_pipelined_in_chunks_match_one_by_one(classifier):
    """predict_proba normalises the next chunk in a thread while the network runs: same answers,
    in the same order, blanks included, across chunk boundaries."""
    rng = np.random.default_rng(3)
    crops = []
    for i in range(1100):
        c = np.full((rng.integers(20, 90), rng.integers(15, 70)), 235, np.uint8)
        if i % 7:  # every seventh crop stays blank
            x = c.shape[1] // 2 + int(rng.integers(-3, 4))
            cv2.line(c, (x, 3), (x - int(rng.integers(0, 6)), c.shape[0] - 4), 30, max(2, c.shape[1] // 9))
        crops.append(c)
    batched = classifier.predict_proba(crops)
    singles = np.vstack([classifier.predict_proba(crops[i:i + 1]) for i in range(0, 1100, 97)])
    assert batched.shape == (1100, 10)
    assert np.allclose(batched[::97], singles, atol=1e-5)
    assert np.allclose(batched[::7], 0.1)


def test_inference_network_has_its_batch_norms_folded(classifier):
    import keras

    from marksocr.recognition.folding import fold_batchnorm

    model = classifier.keras_model
    folded = fold_batchnorm(model)
    assert folded is not model
    assert not any(isinstance(layer, (keras.layers.BatchNormalization, keras.layers.Dropout)) for layer in folded.layers)
    x = np.random.default_rng(0).random((64, 28, 28, 1), dtype=np.float32)
    assert np.abs(np.asarray(model(x, training=False)) - np.asarray(folded(x, training=False))).max() < 1e-4


def test_folding_leaves_networks_it_cannot_fold_alone():
    import keras

    from marksocr.recognition.folding import fold_batchnorm

    inputs = keras.Input((28, 28, 1))
    a = keras.layers.Conv2D(4, 3, activation="relu")(inputs)  # its own activation: nothing to fold into
    b = keras.layers.BatchNormalization()(a)
    branching = keras.Model(inputs, keras.layers.Add()([a, b]))
    assert fold_batchnorm(branching) is branching
    chain = keras.Sequential([inputs, keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.BatchNormalization()])
    assert fold_batchnorm(chain) is chain


def test_shipped_model_accuracy_on_mnist_test(classifier, mnist_dir):
    test = load_mnist("test", mnist_dir)
    probs = classifier.predict_proba(list(255 - test.images))  # dark on light, as from a photo
    accuracy = float((probs.argmax(axis=1) == test.labels).mean())
    assert accuracy >= SHIPPED_MIN_ACCURACY, f"shipped model scores {accuracy:.4%} on MNIST test"


def test_shipped_card_describes_the_model(classifier):
    card = classifier.card
    for key in ("version", "sha256", "recipe", "metrics", "temperature", "history", "data", "created"):
        assert key in card
    assert card["metrics"]["test_accuracy"] >= SHIPPED_MIN_ACCURACY
    assert default_model_path().stat().st_size <= 5 * 1024 * 1024


@pytest.fixture
def model_copy(tmp_path):
    src = default_model_path()
    if not src.is_file():
        pytest.skip("no shipped model")
    dst = tmp_path / "m.keras"
    shutil.copy(src, dst)
    shutil.copy(src.with_suffix(".json"), dst.with_suffix(".json"))
    return dst


def test_corrupt_model_file_names_the_file(model_copy):
    data = bytearray(model_copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model_copy.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match its card") as info:
        DigitClassifier.load(model_copy)
    assert str(model_copy) in str(info.value)


def test_missing_card(model_copy):
    model_copy.with_suffix(".json").unlink()
    with pytest.raises(ModelError, match="card missing"):
        DigitClassifier.load(model_copy)


@pytest.mark.parametrize("key, value, message", [
    ("input_shape", [32, 32, 1], "input_shape"),
    ("classes", ["a", "b"], "classes"),
    ("format", "something/2", "not a marksocr model card"),
])
def test_card_mismatch(model_copy, key, value, message):
    card_file = model_copy.with_suffix(".json")
    card = json.loads(card_file.read_text())
    card[key] = value
    card_file.write_text(json.dumps(card))
    with pytest.raises(ModelError, match=message):
        DigitClassifier.load(model_copy)


def test_truncated_model_with_matching_card_is_a_clear_error(model_copy):
    from marksocr.recognition.card import write_card

    model_copy.write_bytes(model_copy.read_bytes()[:1000])
    card = json.loads(model_copy.with_suffix(".json").read_text())
    write_card(model_copy, {k: v for k, v in card.items() if k not in ("sha256",)})
    with pytest.raises(ModelError, match="cannot load the model") as info:
        DigitClassifier.load(model_copy)
    assert str(model_copy) in str(info.value)


def test_missing_model_file(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        DigitClassifier.load(tmp_path / "nothing.keras")
