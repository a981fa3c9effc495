"""Command-line layer: thin wrappers over the pipeline, storage and recognition."""
