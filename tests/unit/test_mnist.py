"""IDX loading: real MNIST when present, and clear errors for malformed files."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from marksocr.domain import DataError
from marksocr.recognition.mnist import load_mnist, read_idx


def _idx(shape: tuple[int, ...], data: bytes, dtype: int = 0x08) -> bytes:
    return bytes([0, 0, dtype, len(shape)]) + b"".join(struct.pack(">I", n) for n in shape) + data


def test_reads_plain_and_gzip(tmp_path):
    payload = _idx((2, 3), bytes(range(6)))
    (tmp_path / "a.idx").write_bytes(payload)
    (tmp_path / "a.idx.gz").write_bytes(gzip.compress(payload))
    for name in ("a.idx", "a.idx.gz"):
        arr = read_idx(tmp_path / name)
        assert arr.shape == (2, 3) and arr.tolist() == [[0, 1, 2], [3, 4, 5]]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "bad magic"),
        (b"PK\x03\x04 not idx at all", "bad magic"),
        (_idx((2, 3), bytes(5)), "truncated"),
        (_idx((2, 3), bytes(7)), "padded"),
        (_idx((2,), bytes(8), dtype=0x0D), "not unsigned bytes"),
        (bytes([0, 0, 8, 3, 0, 0]), "truncated IDX header"),
    ],
)
def test_malformed_idx_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "broken-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_truncated_gzip_is_a_clear_error(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(_idx((10, 28, 28), bytes(7840)))[:50])
    with pytest.raises(DataError, match="gzip") as info:
        read_idx(path)
    assert path.name in str(info.value)


def test_missing_directory_names_the_file(tmp_path):
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz not found"):
        load_mnist("test", tmp_path)


def test_label_count_mismatch(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx((3, 28, 28), bytes(3 * 784))))
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx((2,), bytes(2))))
    with pytest.raises(DataError, match="3 images but"):
        load_mnist("test", tmp_path)


def test_real_mnist_test_split(mnist_dir):
    ds = load_mnist("test", mnist_dir)
    assert ds.images.shape == (10000, 28, 28) and ds.labels.shape == (10000,)
    assert set(np.unique(ds.labels)) == set(range(10))
    assert len(ds.checksums) == 2
