"""Sheet generators: the printable marksocr answer sheet, a foreign (marker-less) layout, and
synthetic sheet photos with ground truth for tests and benchmarks.

Submodules are imported on demand; none of them imports TensorFlow or Qt.
"""
