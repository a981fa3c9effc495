"""Read MNIST-style IDX files (optionally gzip-compressed) with clear errors.

IDX format: magic (2 zero bytes, a type code, the number of dimensions), then one
big-endian uint32 per dimension, then the data. We accept only unsigned bytes
(type 0x08), which is what MNIST images and labels are.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from marksocr.domain import DataError
from marksocr.paths import default_mnist_dir

log = logging.getLogger(__name__)

_UBYTE = 0x08
_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@dataclass(frozen=True)
class DigitSet:
    """Images (N, 28, 28) uint8, white ink on black as in MNIST; labels (N,) uint8."""

    images: npt.NDArray[np.uint8]
    labels: npt.NDArray[np.uint8]
    checksums: dict[str, str]

    def __len__(self) -> int:
        return len(self.labels)


def read_idx(path: Path) -> npt.NDArray[np.uint8]:
    """Read one IDX file (``.gz`` or plain) into an array; raise DataError naming the file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read MNIST file ({exc.strerror or exc})") from exc
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise DataError(f"{path}: corrupt or truncated gzip data ({exc})") from exc
    return _parse_idx(raw, path)


def _parse_idx(raw: bytes, path: Path) -> npt.NDArray[np.uint8]:
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{path}: not an IDX file (bad magic number)")
    dtype, ndim = raw[2], raw[3]
    if dtype != _UBYTE:
        raise DataError(f"{path}: IDX data type 0x{dtype:02x} is not unsigned bytes (0x08)")
    if not 1 <= ndim <= 4:
        raise DataError(f"{path}: IDX file claims {ndim} dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise DataError(
            f"{path}: IDX file is truncated or padded: header says {shape} "
            f"({expected} bytes) but {len(raw) - header} data bytes follow"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _find(directory: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem, stem.replace("-idx", ".idx")):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    raise DataError(
        f"MNIST file {stem}.gz not found in {directory}; pass --data DIR or set $MARKSOCR_MNIST"
    )


def load_mnist(split: str, directory: Path | None = None) -> DigitSet:
    """Load the ``train`` or ``test`` split from ``directory`` (default: see paths)."""
    directory = Path(directory) if directory else default_mnist_dir()
    img_path, lbl_path = (_find(directory, stem) for stem in _FILES[split])
    images, labels = read_idx(img_path), read_idx(lbl_path)
    if images.ndim != 3 or labels.ndim != 1:
        raise DataError(f"{img_path}: expected images (N, H, W) and labels (N,), got {images.shape} / {labels.shape}")
    if len(images) != len(labels):
        raise DataError(f"{img_path}: {len(images)} images but {lbl_path.name} has {len(labels)} labels")
    if labels.max(initial=0) > 9:
        raise DataError(f"{lbl_path}: labels must be digits 0-9, found {int(labels.max())}")
    checksums = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (img_path, lbl_path)}
    log.info("loaded MNIST %s: %d digits from %s", split, len(labels), directory)
    return DigitSet(images=images, labels=labels, checksums=checksums)
