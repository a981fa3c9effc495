"""Ensembles: digit models trained apart, averaged into one model file with its card.

Two networks trained from different starting points misread fewer of the same digits than
two fine-tuned from one parent: where they agree their average is surer, where they disagree
it is less sure, which is what the confidence threshold needs. Each member's logits are
divided by its own temperature (so each speaks in calibrated terms), averaged, and the
average is calibrated again on the validation digits of the members' split.

The result is an ordinary model file (``DigitClassifier.load`` reads it like any other);
its card lists the members' cards, so the recipe of every part is on record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Optional

from marksocr.domain import DataError
from marksocr.recognition.architectures import INPUT_SHAPE
from marksocr.recognition.calibration import fit_temperature
from marksocr.recognition.card import write_card

ARCHITECTURE = "ensemble"
_MEMBER = "member_{}"
_SCALE = "calibrate_{}"


def is_ensemble(model: Any) -> bool:
    return str(getattr(model, "name", "")) == ARCHITECTURE


def assemble(members: Sequence[Any], temperatures: Sequence[float]) -> Any:
    """One Keras model: the mean of each member's logits divided by its temperature."""
    import keras
    from keras import layers as L

    inputs = keras.Input(INPUT_SHAPE)
    outs = []
    for i, (member, t) in enumerate(zip(members, temperatures)):
        named = keras.Model(member.inputs[0], member.outputs[0], name=_MEMBER.format(i))
        outs.append(L.Rescaling(1.0 / float(t), name=_SCALE.format(i))(named(inputs)))
    return keras.Model(inputs, L.Average(name="mean_logits")(outs), name=ARCHITECTURE)


def fold_members(model: Any, fold: Callable[[Any], Any]) -> Any:
    """The same ensemble with ``fold`` (batch-norm folding) applied to each member."""
    members, scales = [], []
    for i in range(len(model.layers)):
        try:
            members.append(fold(model.get_layer(_MEMBER.format(i))))
            scales.append(1.0 / float(model.get_layer(_SCALE.format(i)).scale))
        except ValueError:
            break
    return assemble(members, scales) if members else model


def _split(card: dict[str, Any]) -> tuple[Any, Any]:
    """(split seed, validation size) of a model's recipe: which digits it was validated on."""
    recipe = card.get("recipe", {})
    seed = recipe.get("split_seed")
    return (recipe.get("seed") if seed is None else seed), recipe.get("validation")


def combine(paths: Sequence[Path], out: Path, data_dir: Optional[Path] = None,
            progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Write the ensemble of the models at ``paths`` to ``out`` with its card; return the card.

    The average is calibrated on the validation digits of the members' common split (their
    recipes' split seed and ``validation``); members trained on other splits are refused, since
    one member's validation digits would be another's training digits.
    """
    from marksocr.recognition.classifier import DigitClassifier
    from marksocr.recognition.train import TrainConfig, card_stamp, prepare, score_saved

    if len(paths) < 2:
        raise DataError("an ensemble needs at least two models")
    members = [DigitClassifier.load(p) for p in paths]
    keep = ("version", "sha256", "architecture", "temperature", "recipe", "data", "metrics", "parent", "created")
    member_cards = [{k: m.card[k] for k in keep if k in m.card} for m in members]  # before ``out`` may replace one
    splits = {_split(m.card) for m in members}
    if len(splits) != 1 or None in next(iter(splits)):
        raise DataError("the models were not trained on the same validation split (recipe split seed and "
                        f"validation differ: {sorted(map(str, splits))}); retrain one with --split-seed")
    seed, validation = next(iter(splits))
    progress(f"combining {len(members)} models; calibrating on the {validation} validation digits of seed {seed}")
    model = assemble([m.keras_model for m in members], [m.temperature for m in members])
    prepared = prepare(TrainConfig(split_seed=int(seed), validation=int(validation), data_dir=data_dir))
    logits = model.predict(prepared.val_images[..., None], batch_size=1024, verbose=0)
    temperature = fit_temperature(logits, prepared.val_labels)
    val_accuracy = float((logits.argmax(axis=1) == prepared.val_labels).mean())
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    metrics = {**score_saved(out, temperature, data_dir), "validation_accuracy": val_accuracy}
    card = {
        **card_stamp(model, out, ARCHITECTURE),
        "temperature": temperature,
        "recipe": {"members": [str(p) for p in paths], "split_seed": seed, "validation": validation,
                   "combination": "mean of each member's logits / its temperature, calibrated again"},
        "data": {"mnist": prepared.checksums, "validation_digits": int(len(prepared.val_labels))},
        "members": member_cards,
        "metrics": metrics,
    }
    write_card(out, card)
    progress(f"saved {out}: test accuracy {metrics['test_accuracy']:.4%}, ECE {metrics['test_ece']:.4f}, "
             f"temperature {temperature:.3f}")
    return card
