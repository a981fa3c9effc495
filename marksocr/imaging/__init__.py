"""Image handling with OpenCV (never TensorFlow): loading files, registration, fields, segmentation.

Submodules are imported on demand (``from marksocr.imaging.io import iter_pages``) so
that importing this package stays cheap.
"""
