"""Shared fixtures: isolated user directories, MNIST location, the shipped classifier."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Each test gets its own config and data directories: no test touches the real ones."""
    home = tmp_path_factory.mktemp("userhome")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.delenv("MARKSOCR_DB", raising=False)
    yield


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    from marksocr.paths import default_mnist_dir

    d = default_mnist_dir()
    missing = [f for f in MNIST_FILES if not (d / f).is_file()]
    if missing:
        pytest.skip(f"MNIST not found in {d} (missing {', '.join(missing)}); set $MARKSOCR_MNIST")
    return d


@pytest.fixture(scope="session")
def classifier():
    """The shipped digit model, loaded once per test session."""
    from marksocr.paths import default_model_path
    from marksocr.recognition import DigitClassifier

    if not default_model_path().is_file():
        pytest.skip(f"no shipped model at {default_model_path()}; run `marksocr train`")
    return DigitClassifier.load()
