"""marksocr: handwritten marks from answer-sheet photos into a database."""
__version__ = "0.1.0"
