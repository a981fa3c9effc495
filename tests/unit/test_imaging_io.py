"""Loading sheet images: every supported format, EXIF orientation, and clear errors for bad files."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest
from PIL import Image

from marksocr.domain import InputError
from marksocr.imaging.io import Page, find_inputs, iter_pages, load_image


def _pattern(w: int = 120, h: int = 80) -> np.ndarray:
    """Gray page with a dark block in the top-left corner (to check orientation)."""
    img = np.full((h, w), 230, np.uint8)
    img[5:25, 5:45] = 20
    return img


@pytest.mark.parametrize("fmt, suffix", [("JPEG", ".jpg"), ("PNG", ".png"), ("TIFF", ".tif"), ("BMP", ".bmp")])
def test_each_format_loads_as_2d_uint8(tmp_path, fmt, suffix):
    rgb = Image.fromarray(_pattern()).convert("RGB")
    path = tmp_path / f"sheet{suffix}"
    rgb.save(path, fmt)
    img = load_image(path)
    assert img.dtype == np.uint8 and img.shape == (80, 120)
    assert img[10:20, 10:40].mean() < 60 and img[50:, 60:].mean() > 200
    pages = list(iter_pages(path))
    assert len(pages) == 1 and pages[0].ok and pages[0].page is None
    assert pages[0].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_colour_rgba_and_16bit_images_become_gray(tmp_path):
    rgba = np.zeros((40, 50, 4), np.uint8)
    rgba[..., 3] = 0  # fully transparent: should come out as white paper
    rgba[:10, :10] = (0, 0, 200, 255)  # opaque blue ink
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    img = load_image(tmp_path / "a.png")
    assert img.ndim == 2 and img[20:, 20:].min() == 255 and img[:10, :10].max() < 60
    deep = (np.arange(50 * 40, dtype=np.uint16).reshape(40, 50) * 30)
    Image.fromarray(deep).save(tmp_path / "d.png")
    img = load_image(tmp_path / "d.png")
    assert img.dtype == np.uint8 and img.max() > 200 and img.min() == 0


def test_pdf_every_page_with_page_numbers_and_hashes(tmp_path):
    a = Image.fromarray(_pattern(200, 280))
    b = Image.fromarray(255 - _pattern(200, 280))
    path = tmp_path / "batch.pdf"
    a.save(path, "PDF", save_all=True, append_images=[b], resolution=100)
    pages = list(iter_pages(path))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert [p.page for p in pages] == [1, 2]
    assert [p.sha256 for p in pages] == [f"{digest}#1", f"{digest}#2"]
    for p in pages:
        assert p.ok and p.image.ndim == 2 and p.image.dtype == np.uint8
        h, w = p.image.shape  # 2.8 x 2 inches at 200 dpi
        assert abs(h - 560) <= 1 and abs(w - 400) <= 1
    assert pages[0].image.mean() > pages[1].image.mean()  # page 2 is the inverted one
    assert load_image(path).shape == pages[0].image.shape


def test_multipage_tiff_gives_every_page(tmp_path):
    path = tmp_path / "scan.tif"
    frames = [Image.fromarray(_pattern()), Image.fromarray(255 - _pattern())]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    pages = list(iter_pages(path))
    assert [p.page for p in pages] == [1, 2] and all(p.ok for p in pages)
    assert pages[0].sha256.endswith("#1") and pages[1].sha256.endswith("#2")


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_honoured(tmp_path, orientation):
    stored = {3: np.rot90(_pattern(), 2), 6: np.rot90(_pattern(), 1), 8: np.rot90(_pattern(), -1)}[orientation]
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "phone.jpg"
    Image.fromarray(np.ascontiguousarray(stored)).save(path, "JPEG", exif=exif, quality=95)
    img = load_image(path)
    assert img.shape == (80, 120)  # upright: landscape again
    assert img[10:20, 10:40].mean() < 60  # dark block back in the top-left corner


def test_corrupt_truncated_and_empty_files_are_clear_errors(tmp_path):
    good = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 300), np.uint8)).save(good, "JPEG")
    (tmp_path / "cut.jpg").write_bytes(good.getvalue()[: len(good.getvalue()) // 2])
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.png").write_text("this is a text file, not a picture\n")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\n garbage garbage\n")
    cases = {"cut.jpg": "truncated", "empty.png": "empty", "notes.png": "not an image", "broken.pdf": "PDF"}
    for name, words in cases.items():
        with pytest.raises(InputError) as info:
            load_image(tmp_path / name)
        assert name in str(info.value) and words in str(info.value)
        pages = list(iter_pages(tmp_path / name))
        assert len(pages) == 1 and not pages[0].ok and pages[0].image is None
        assert name in pages[0].error and words in pages[0].error
    with pytest.raises(InputError, match="missing.png: file not found"):
        load_image(tmp_path / "missing.png")
    assert list(iter_pages(tmp_path / "missing.png"))[0].error.endswith("file not found")


def test_too_large_image_refused_before_decoding(tmp_path):
    path = tmp_path / "huge.png"
    Image.new("L", (4000, 3000), 255).save(path)
    with pytest.raises(InputError, match=r"huge.png: image is too large \(4000x3000"):
        load_image(path, max_pixels=10_000_000)
    page = next(iter_pages(path, max_pixels=10_000_000))
    assert page.image is None and "too large" in page.error
    assert load_image(path).shape == (3000, 4000)  # under the default limit


def test_find_inputs_expands_folders(tmp_path):
    (tmp_path / "b").mkdir()
    for name in ("b/2.JPG", "a.png", "c.pdf", "readme.txt", ".hidden.png"):
        (tmp_path / name).write_bytes(b"x")
    found = [p.relative_to(tmp_path).as_posix() for p in find_inputs([tmp_path])]
    assert found == ["a.png", "b/2.JPG", "c.pdf"]
    assert find_inputs([tmp_path / "readme.txt"]) == [tmp_path / "readme.txt"]
    assert isinstance(Page("x", None, "", None, "bad"), Page)
