"""Versions of the libraries a reading depends on, for benchmark headers and bug reports.

Read from the installed distributions' metadata, so nothing heavy (TensorFlow, Qt) is imported.
Registration and segmentation results can change with the OpenCV build, so every benchmark
figure should say which one it was measured with.
"""

from __future__ import annotations

import platform
from importlib import metadata

# Shown name -> distributions that provide it, first installed one wins.
_LIBRARIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("numpy", ("numpy",)),
    ("OpenCV", ("opencv-python-headless", "opencv-python", "opencv-contrib-python-headless",
                "opencv-contrib-python")),
    ("TensorFlow", ("tensorflow-cpu", "tensorflow")),
    ("Keras", ("keras",)),
    ("SQLAlchemy", ("SQLAlchemy",)),
    ("PySide6", ("PySide6-Essentials", "PySide6")),
)


def library_versions() -> dict[str, str]:
    """``{"Python": "3.11.7", "numpy": "2.4.6", "OpenCV": "5.1.0.95 (opencv-python-headless)", ...}``;
    a library that is not installed is ``"not installed"``."""
    out = {"Python": platform.python_version()}
    for shown, dists in _LIBRARIES:
        out[shown] = "not installed"
        for dist in dists:
            try:
                version = metadata.version(dist)
            except metadata.PackageNotFoundError:
                continue
            out[shown] = version if len(dists) == 1 or dist == dists[0] else f"{version} ({dist})"
            break
    return out


def versions_line(names: tuple[str, ...] = ("Python", "numpy", "OpenCV", "TensorFlow")) -> str:
    """One line such as ``Python 3.11.7, numpy 2.4.6, OpenCV 5.1.0.95, TensorFlow 2.21.0``."""
    found = library_versions()
    return ", ".join(f"{n} {found[n]}" for n in names if n in found)
