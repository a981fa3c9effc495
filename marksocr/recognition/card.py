"""The model card: a JSON file beside each model that the loader checks."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from marksocr.domain import ModelError

CARD_FORMAT = "marksocr.model/1"
CLASSES = [str(d) for d in range(10)]
INPUT_SHAPE = [28, 28, 1]


def card_path(model_path: Path) -> Path:
    return Path(model_path).with_suffix(".json")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_card(model_path: Path) -> dict[str, Any]:
    """Read and check a model's card against the model file; ModelError names the file."""
    model_path = Path(model_path)
    if not model_path.is_file():
        raise ModelError(f"{model_path}: model file not found (train one with `marksocr train`)")
    path = card_path(model_path)
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path}: model card missing; every model needs its JSON card beside it") from None
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: model card is not valid JSON ({exc})") from exc
    if not isinstance(card, dict) or card.get("format") != CARD_FORMAT:
        raise ModelError(f"{path}: not a marksocr model card (format must be {CARD_FORMAT!r})")
    for key in ("sha256", "input_shape", "classes", "temperature", "version"):
        if key not in card:
            raise ModelError(f"{path}: model card lacks {key!r}")
    actual = file_sha256(model_path)
    if actual != card["sha256"]:
        raise ModelError(
            f"{model_path}: file does not match its card (sha256 {actual[:12]}... != {str(card['sha256'])[:12]}...): "
            "the model file is corrupt or was replaced"
        )
    if list(card["input_shape"]) != INPUT_SHAPE:
        raise ModelError(f"{path}: input_shape {card['input_shape']} is not {INPUT_SHAPE}")
    if list(card["classes"]) != CLASSES:
        raise ModelError(f"{path}: classes {card['classes']} are not the digits 0-9")
    if not float(card["temperature"]) > 0:
        raise ModelError(f"{path}: temperature must be positive")
    return card


def write_card(model_path: Path, card: dict[str, Any]) -> Path:
    card = {"format": CARD_FORMAT, **card, "sha256": file_sha256(model_path),
            "file": Path(model_path).name, "file_bytes": Path(model_path).stat().st_size,
            "input_shape": INPUT_SHAPE, "classes": CLASSES}
    path = card_path(model_path)
    path.write_text(json.dumps(card, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path
