"""Glue between imaging, recognition and storage: read a sheet, check it, decide.

``read_sheet`` (template mode), ``read_free`` (no template), ``ReadOptions``.
Batch scanning into the database lives in ``marksocr.pipeline.batch``.
"""

from marksocr.pipeline.free import DigitString, read_free
from marksocr.pipeline.reader import DEFAULT_THRESHOLD, ReadOptions, read_sheet

__all__ = ["DEFAULT_THRESHOLD", "DigitString", "ReadOptions", "read_free", "read_sheet"]
