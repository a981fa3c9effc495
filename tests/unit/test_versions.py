"""The library versions benchmark headers and the About box show."""

import platform

import cv2
import numpy as np

from marksocr.versions import library_versions, versions_line


def test_the_versions_are_those_of_the_libraries_in_use():
    found = library_versions()
    assert found["Python"] == platform.python_version()
    assert found["numpy"] == np.__version__
    assert found["OpenCV"].startswith(cv2.__version__)  # the wheel adds a build number: 5.1.0.95
    assert found["TensorFlow"] != "not installed"


def test_the_line_names_each_library_asked_for_in_order():
    line = versions_line(("OpenCV", "numpy"))
    assert line.startswith("OpenCV ") and f", numpy {np.__version__}" in line
    assert "Python" not in line
