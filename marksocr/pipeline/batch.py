"""Batch scanning: files and folders -> pages -> readings -> one transaction per sheet.

Used by ``marksocr scan`` and by the GUI (from a worker thread: ``progress`` is called
on that thread, ``cancel`` is polled between pages).

Rerun policy: a page already stored for this template (same sha256) is skipped *before*
it is read, unless its stored status is ``failed``: failed pages are read again and the
new reading replaces the failed one (a better photo of the same bytes cannot exist, but
a fixed template, a newer model or a transient error can make it readable now). Sheets
an operator touched are never overwritten.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Protocol, Union

import numpy as np

from marksocr.domain import GrayImage, SheetReading, SheetStatus, Template

log = logging.getLogger(__name__)

PAGE_IMAGE_MAX_WIDTH = 1240
"""Registered pages are stored downscaled to this width (about 100 dpi on A4)."""


class Cancel(Protocol):
    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class ScanOptions:
    """How to scan: passed to the reader and to the database."""

    threshold: Optional[float] = None
    """Digit confidence below which a field needs review; None: the settings' value."""
    roll_numbers: Optional[Sequence[str]] = None
    """Known roll numbers (the roster), to flag unknown ones; None: no check."""
    subject_codes: Optional[Sequence[str]] = None
    retry_failed: bool = True
    """Read pages stored as ``failed`` again (see the module docstring)."""
    keep_page_images: bool = True
    """Store the registered page (downscaled PNG) with each sheet, for review."""
    user: Optional[str] = None
    """Operator recorded in the audit log; None: the settings' operator."""


@dataclass(frozen=True)
class ScanFailure:
    source: str
    page: Optional[int]
    reason: str

    @property
    def label(self) -> str:
        name = Path(self.source).name
        return f"{name}#{self.page}" if self.page is not None else name


@dataclass(frozen=True)
class ScanProgress:
    """One event of a scan, reported after each page (and each skipped file)."""

    files_done: int
    files_total: int
    label: str
    """The sheet label (file name, ``#page`` for pages of a PDF)."""
    status: str
    """``auto``, ``needs_review``, ``failed`` or ``skipped``; ``held`` for a sheet read and kept back
    while the scan learns the lengths of free-written ids (``LengthReader``), reported again when stored."""
    message: str = ""
    sheet_id: Optional[int] = None


@dataclass(frozen=True)
class ScanSummary:
    files: int
    pages: int
    """Pages seen (read or skipped)."""
    saved: int
    """Sheets written (new, or a failed one replaced)."""
    counts: dict[str, int] = field(default_factory=dict)
    """Sheets read in this run per status (``auto``, ``needs_review``, ``failed``)."""
    skipped: int = 0
    """Pages already in the database, not read again."""
    failures: tuple[ScanFailure, ...] = ()
    sheet_ids: tuple[int, ...] = ()
    cancelled: bool = False
    seconds: float = 0.0
    retake: tuple[str, ...] = ()
    """Labels of sheets whose photo is too blurred to read reliably (stored, in review): take them again."""
    lengths: str = ""
    """The digit counts given to free-written fields the template gave none (``pipeline.lengths``),
    and where they came from; empty when none were."""

    @property
    def ok(self) -> bool:
        """True when every input was read (no failure) and the run was not cancelled."""
        return not self.failures and not self.cancelled

    def lines(self) -> list[str]:
        parts = [f"{self.counts.get(s, 0)} {s}" for s in ("auto", "needs_review", "failed")]
        out = [f"{self.files} file(s), {self.pages} page(s): {', '.join(parts)}, {self.skipped} already scanned"
               f" ({self.seconds:.1f} s)"]
        if self.cancelled:
            out.append("cancelled: run the same command again to finish the batch")
        for f in self.failures:
            out.append(f"FAILED {f.label}: {f.reason}")
        if self.lengths:
            out.append(f"lengths the template does not give: {self.lengths}")
        if self.retake:
            out.append(f"{len(self.retake)} photo(s) too blurred to read reliably, in review; retake: "
                       + ", ".join(self.retake))
        return out


class LazyClassifier:
    """Loads the digit classifier the first time a page actually needs reading."""

    def __init__(self, loader: Optional[Callable[[], Any]] = None) -> None:
        self._loader = loader
        self._clf: Any = None

    def get(self) -> Any:
        if self._clf is None:
            if self._loader is not None:
                self._clf = self._loader()
            else:
                from marksocr.recognition import DigitClassifier

                self._clf = DigitClassifier.load()
        return self._clf

    @property
    def loaded(self) -> bool:
        return self._clf is not None


def encode_png(image: GrayImage, max_width: Optional[int] = None) -> bytes:
    """PNG bytes of a gray image (downscaled to ``max_width`` if wider)."""
    import cv2

    img = np.asarray(image)
    if max_width is not None and img.shape[1] > max_width:
        scale = max_width / img.shape[1]
        img = cv2.resize(img, (max_width, max(1, round(img.shape[0] * scale))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".png", img)
    if not ok:
        raise ValueError("cannot encode PNG")
    return buf.tobytes()


def reading_pngs(reading: SheetReading, keep_page: bool = True) -> tuple[Optional[bytes], dict[str, bytes]]:
    """``(page_png, {field name: crop png})`` of a reading, for ``Database.save_reading``."""
    crops = {f.name: encode_png(f.crop) for f in reading.fields if f.crop is not None and f.crop.size}
    page = None
    if keep_page and reading.page_image is not None and reading.page_image.size:
        page = encode_png(reading.page_image, PAGE_IMAGE_MAX_WIDTH)
    return page, crops


def _cancelled(cancel: Union[Cancel, Callable[[], bool], None]) -> bool:
    if cancel is None:
        return False
    if hasattr(cancel, "is_set"):
        return bool(cancel.is_set())
    return bool(cancel())  # type: ignore[operator]


def _file_sha256(path: Path) -> Optional[str]:
    try:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()
    except OSError:
        return None


def _failed_reading(template: Template, source: str, page: Optional[int], sha256: str, reason: str) -> SheetReading:
    return SheetReading(source=source, page=page, sha256=sha256, template_name=template.name,
                        status=SheetStatus.FAILED, reasons=(reason,))


def _read(page, template: Template, classifier: Any, read_options: Any) -> SheetReading:
    from marksocr.pipeline import read_sheet

    clf = classifier.get() if isinstance(classifier, LazyClassifier) else classifier
    try:
        return read_sheet(page.image, template, clf, source=page.source, page=page.page,
                          sha256=page.sha256, options=read_options)
    except Exception as exc:  # the reader promises not to raise; a bug must not stop the batch
        log.exception("reading %s failed", page.source)
        return _failed_reading(template, page.source, page.page, page.sha256,
                               f"internal error while reading: {type(exc).__name__}: {exc}")


class LengthReader:
    """Reads pages for :func:`scan_paths`, finding the digit counts of free-written ids the
    template does not give (``pipeline.lengths``): from the known lists when they say, else from
    the values stored before with this template (``stored``) and the first sheets of the scan.
    While it learns, :meth:`read` holds readings back; once it has decided, the held ones are read
    again knowing the lengths (a reading of the right length made without it is not the same: no
    cut lattices, and confidences lowered by cuts the length rules out) and handed out, in order,
    then each new one as it is read."""

    LEARNED = "as on most sheets read with this template"

    def __init__(self, template: Template, classifier: Any, options: ScanOptions,
                 stored: Optional[dict[str, list[str]]] = None) -> None:
        from marksocr.pipeline import lengths

        self._lengths = lengths
        self.classifier = classifier
        self.options = options
        self._read_options: Any = None
        self._stored = {k: list(v) for k, v in (stored or {}).items()}
        self._held: list[tuple[Any, SheetReading, Any]] = []
        self.found = ""
        """What was given and where from, for the scan summary (empty: nothing)."""
        listed = lengths.listed_lengths(template, options.roll_numbers, options.subject_codes)
        self.template = self._give(template, listed, "as in the roster")
        self._give_learned()
        self.learning = bool(lengths.open_fields(self.template))

    def _give(self, template: Template, found: dict[str, int], source: str) -> Template:
        if found:
            self.found = "; ".join(filter(None, [self.found, self._lengths.describe(found, source)]))
        return self._lengths.with_lengths(template, found, source)

    def _give_learned(self) -> dict[str, int]:
        learned = self._lengths.learned_lengths(self.template, [], self._stored)
        self.template = self._give(self.template, learned, self.LEARNED)
        return learned

    def _remember(self, reading: SheetReading) -> None:
        """Count a reading's open fields with the values stored before."""
        if SheetStatus(reading.status) == SheetStatus.FAILED:
            return
        texts = {f.name: f.text for f in reading.fields}
        for f in self._lengths.open_fields(self.template):
            self._stored.setdefault(f.name, []).append(texts.get(f.name, ""))

    @property
    def read_options(self) -> Any:
        if self._read_options is None:
            self._read_options = _read_options(self.options)
        return self._read_options

    def read(self, page: Any, tag: Any) -> list[tuple[SheetReading, Any]]:
        """Read ``page``; returns the readings ready to store with their ``tag``s (none while learning).
        Past :data:`~marksocr.pipeline.lengths.LEARN_MAX` held sheets nothing more is held back, but
        a length still unclear is decided as soon as the sheets read make it clear, for the rest."""
        reading = _read(page, self.template, self.classifier, self.read_options)
        if not self.learning:
            if self._lengths.open_fields(self.template):
                self._remember(reading)
                self._give_learned()
            return [(reading, tag)]
        self._held.append((_light(page), reading, tag))
        held = len(self._held)
        if held >= self._lengths.LEARN_MAX or (held >= self._lengths.LEARN_FROM and self._clear()):
            return self.finish()
        return []

    def _clear(self) -> bool:
        """Whether the held readings already settle every open field's length."""
        learned = self._lengths.learned_lengths(self.template, [r for _, r, _ in self._held], self._stored)
        return len(learned) == len(self._lengths.open_fields(self.template))

    def finish(self) -> list[tuple[SheetReading, Any]]:
        """Decide on what is held (at the end of a scan shorter than the learning) and hand it out.
        (A cancelled scan does not call it: sheets held then were never stored, so its rerun reads
        them, rather than storing readings made without the lengths.)"""
        held, self._held = self._held, []
        if not self.learning or not held:
            return [(r, tag) for _, r, tag in held]
        self.learning = False
        for _, r, _ in held:
            self._remember(r)
        learned = self._give_learned()
        if learned:
            log.info("lengths from %d sheets of this scan: %s", len(held), self.found)
        return [(self._again(page, r) if learned else r, tag) for page, r, tag in held]

    def _again(self, page: Any, reading: SheetReading) -> SheetReading:
        """``page`` read again with the lengths found (its image loaded again from its file when
        it was let go); the first reading when that cannot be done (failed, or the file changed)."""
        if SheetStatus(reading.status) == SheetStatus.FAILED:
            return reading
        if page.image is None:
            from marksocr.imaging.io import iter_pages

            page = next((p for p in iter_pages(page.source) if p.sha256 == page.sha256 and p.image is not None), None)
            if page is None:
                log.warning("%s changed while it was read: kept as first read", reading.source)
                return reading
        return _read(page, self.template, self.classifier, self.read_options)


def _light(page: Any) -> Any:
    """A held page without its image when the image can be loaded again from its own file (a
    single image, not a page of a PDF): a dozen 12-48 MP photos need not stay in memory."""
    from dataclasses import replace

    return replace(page, image=None) if page.page is None and page.sha256 and Path(page.source).is_file() else page


def _read_options(options: ScanOptions) -> Any:
    from marksocr.pipeline import ReadOptions

    threshold = options.threshold
    if threshold is None:
        from marksocr.settings import load_settings

        threshold = load_settings().threshold
    return ReadOptions(threshold=threshold, roll_numbers=options.roll_numbers, subject_codes=options.subject_codes)


def scan_paths(
    paths: Iterable[Union[str, Path]],
    template: Template,
    database: Any,
    classifier: Any,
    options: Optional[ScanOptions] = None,
    progress: Optional[Callable[[ScanProgress], None]] = None,
    cancel: Union[Cancel, Callable[[], bool], None] = None,
) -> ScanSummary:
    """Read every page under ``paths`` into ``database`` (a ``marksocr.storage.Database``).

    ``classifier``: a DigitClassifier, or a :class:`LazyClassifier` so nothing is loaded
    when every page is already stored. Each sheet is saved in its own transaction, so an
    interrupted run keeps what it saved and a rerun finishes the batch. Unreadable files
    and pages the reader could not register are stored as ``failed`` (when they have a
    checksum) and listed in ``failures``; the run goes on. A ``StorageError`` (database
    locked, full...) stops the run.
    """
    from marksocr.imaging.io import iter_pages, find_inputs

    options = options or ScanOptions()
    started = time.monotonic()
    files = find_inputs(paths)
    template_id = database.register_template(template).id
    from marksocr.pipeline.lengths import open_fields

    stored = database.field_values(template_id, [f.name for f in open_fields(template)])
    reader = LengthReader(template, classifier, options, stored)
    counts = {s.value: 0 for s in (SheetStatus.AUTO, SheetStatus.NEEDS_REVIEW, SheetStatus.FAILED)}
    failures: list[ScanFailure] = []
    sheet_ids: list[int] = []
    retake: list[str] = []
    pages = saved = skipped = 0
    cancelled = False

    reported = 0  # files done as last reported: held sheets stored later do not move the bar back

    def report(done: int, label: str, status: str, message: str = "", sheet_id: Optional[int] = None) -> None:
        nonlocal reported
        reported = max(reported, done)
        if progress is not None:
            progress(ScanProgress(reported, len(files), label, status, message, sheet_id))

    def already(sha: str) -> bool:
        status = database.sheet_status(sha, template_id)
        return status is not None and not (options.retry_failed and status == SheetStatus.FAILED)

    def store(reading: SheetReading, done: int, label: str) -> None:
        nonlocal saved
        status = SheetStatus(reading.status).value
        if status == SheetStatus.FAILED.value:
            failures.append(ScanFailure(reading.source, reading.page, "; ".join(reading.reasons) or "unreadable"))
        if not reading.sha256:  # no bytes at all (missing file): nothing to store
            counts[SheetStatus.FAILED.value] += 1
            report(done, label, status, failures[-1].reason)
            return
        if reading.blur is not None and reader.read_options.too_blurred(reading.blur):
            retake.append(label)
        page_png, crops = reading_pngs(reading, options.keep_page_images)
        result = database.save_reading(reading, template_id, field_pngs=crops, page_png=page_png, user=options.user)
        counts[status] += 1
        saved += int(result.created)
        sheet_ids.append(result.sheet_id)
        report(done, label, status, "; ".join(reading.reasons), result.sheet_id)

    for index, path in enumerate(files):
        if _cancelled(cancel):
            cancelled = True
            break
        digest = _file_sha256(path) if path.is_file() else None
        if digest is not None and already(digest):  # single images: skip without decoding
            pages += 1
            skipped += 1
            report(index + 1, path.name, "skipped", "already in the database")
            continue
        for page in iter_pages(path):
            if _cancelled(cancel):
                cancelled = True
                break
            pages += 1
            label = f"{path.name}#{page.page}" if page.page is not None else path.name
            if page.sha256 and already(page.sha256):
                skipped += 1
                report(index, label, "skipped", "already in the database")
                continue
            if page.error is not None or page.image is None:
                reason = page.error or "no image"
                store(_failed_reading(template, page.source, page.page, page.sha256, reason), index + 1, label)
                continue
            ready = reader.read(page, (index + 1, label))
            if not ready:
                report(index + 1, label, "held", "read; stored once the digit counts of free-written ids are known")
            for reading, (done, shown) in ready:
                store(reading, done, shown)
        if cancelled:
            break
    if not cancelled:  # a short scan: what is held is stored too (cancelled: a rerun reads it)
        for reading, (done, shown) in reader.finish():
            store(reading, done, shown)
    summary = ScanSummary(
        files=len(files), pages=pages, saved=saved, counts=counts, skipped=skipped,
        failures=tuple(failures), sheet_ids=tuple(sheet_ids), cancelled=cancelled,
        seconds=time.monotonic() - started, retake=tuple(retake), lengths=reader.found,
    )
    log.info("scan: %s", summary.lines()[0])
    return summary
