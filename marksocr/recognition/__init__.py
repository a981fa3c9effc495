"""Digit recognition: the classifier used at run time (TensorFlow imported lazily).

Training and evaluation code lives beside it (``train``, ``evaluate``, ``baselines``)
and is imported only by the commands that need it.
"""

from marksocr.recognition.classifier import DigitClassifier

__all__ = ["DigitClassifier"]
