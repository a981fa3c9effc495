"""Where marksocr finds its bundled files, from a checkout or an installed wheel.

In a checkout, ``models/`` and ``resources/`` sit beside the package. In a wheel
they are force-included as ``marksocr/_data/models`` and ``marksocr/_data/resources``.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    installed = _PACKAGE_DIR / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent / name


def models_dir() -> Path:
    """Folder of the shipped models (``models/``)."""
    return _bundled("models")


def resources_dir() -> Path:
    """Folder of bundled resources (``resources/``): icons, sample templates."""
    return _bundled("resources")


def default_model_path() -> Path:
    """The shipped digit model, overridable with ``$MARKSOCR_MODEL``."""
    env = os.environ.get("MARKSOCR_MODEL")
    if env:
        return Path(env)
    return models_dir() / "digits.keras"


def checkout_root() -> Path | None:
    """The source checkout this package runs from, or None for an installed wheel."""
    root = _PACKAGE_DIR.parent
    return root if (root / "pyproject.toml").is_file() else None


def default_mnist_dir() -> Path:
    """MNIST IDX files: ``$MARKSOCR_MNIST``, else ``../shared/data/mnist`` beside a checkout."""
    env = os.environ.get("MARKSOCR_MNIST")
    if env:
        return Path(env)
    root = checkout_root() or Path.cwd()
    return (root.parent / "shared" / "data" / "mnist").resolve()
