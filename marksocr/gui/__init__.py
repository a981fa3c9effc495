"""The marksocr desktop application (PySide6).

This is the only package of marksocr that imports Qt. Widgets here hold no SQL
and no image processing: they call the same core functions as the command line
(``marksocr.storage``, ``marksocr.pipeline``, ``marksocr.template``...), and
anything slow runs in a worker thread (see :mod:`marksocr.gui.tasks`).
"""
