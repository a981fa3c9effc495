"""The keyboard-only review loop of ``marksocr review`` (works with piped stdin too).

For each ``needs_review`` sheet, each doubtful field is shown with its reading,
confidence and suggestion. Enter accepts the proposed value (the suggestion if any,
else the reading), digits correct it, ``u`` undoes the last change, ``s`` skips the
sheet, ``q`` quits. Then Enter verifies the sheet (``n`` leaves it for later).
Every answer is committed at once, so quitting (or end of input) loses nothing.
"""

from __future__ import annotations

import logging
import sys
from typing import Callable, Optional, TextIO

from marksocr.domain import FieldKind, SheetStatus

log = logging.getLogger(__name__)


class _Quit(Exception):
    pass


class ReviewLoop:
    def __init__(self, db, user: str, threshold: float, input_fn: Optional[Callable[[str], str]] = None,
                 out: TextIO = sys.stdout) -> None:
        self.db = db
        self.user = user
        self.threshold = threshold
        self.out = out
        self._input = input_fn or input
        self.corrected = self.confirmed = self.verified = 0

    def ask(self, prompt: str) -> str:
        try:
            return self._input(prompt).strip()
        except EOFError:
            self.out.write("\n")
            raise _Quit() from None

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def run(self, subject: Optional[str] = None) -> int:
        """Review every ``needs_review`` sheet; returns the exit code (0)."""
        sheets = self.db.list_sheets(status=SheetStatus.NEEDS_REVIEW, subject=subject)
        if not sheets:
            self.say("nothing to review")
            return 0
        self.say(f"{len(sheets)} sheet(s) to review. Enter accepts, digits correct, "
                 "u undo, s skip sheet, q quit.")
        try:
            for i, summary in enumerate(sheets, start=1):
                self.review_sheet(summary.id, f"[{i}/{len(sheets)}]")
        except _Quit:
            self.say("stopped; everything answered so far is saved")
        self.say(f"{self.corrected} corrected, {self.confirmed} accepted, {self.verified} sheet(s) verified")
        return 0

    def review_sheet(self, sheet_id: int, counter: str) -> None:
        sheet = self.db.get_sheet(sheet_id)
        self.say("")
        self.say(f"{counter} {sheet.label}  roll {sheet.roll_no or '?'}  subject {sheet.subject_code or '?'}")
        for reason in sheet.reasons:
            self.say(f"    ! {reason}")
        fields = [f for f in sheet.fields if f.is_doubtful(self.threshold)]
        if not fields:  # e.g. a sum mismatch: show the numbers so the operator can judge
            fields = [f for f in sheet.fields if f.kind in (FieldKind.MARK.value, FieldKind.TOTAL.value)
                      and not f.is_checked]
        index = 0
        while index < len(fields):
            f = self.db.get_sheet(sheet_id).get_field(fields[index].name)
            proposed = f.suggestion if f.suggestion is not None and not f.is_checked else f.value
            info = f"read {f.text or '(empty)'!r}, confidence {f.confidence:.2f}"
            if f.suggestion is not None:
                info += f", suggestion {f.suggestion!r}"
            if f.reasons:
                info += f" - {'; '.join(f.reasons)}"
            answer = self.ask(f"  {f.name}: {info} [Enter={proposed or 'empty'}]: ")
            if answer.lower() == "q":
                raise _Quit()
            if answer.lower() == "s":
                self.say("  skipped")
                return
            if answer.lower() == "u":
                undone = self.db.undo(self.user, sheet_id=sheet_id)
                self.say(f"  undone: {undone.field_name or 'verify'} {undone.new_value} -> {undone.old_value}"
                         if undone else "  nothing to undo on this sheet")
                index = max(0, index - 1) if undone else index
                continue
            try:
                if answer == "":
                    if proposed != f.text:
                        self.db.correct_field(sheet_id, f.name, proposed, self.user)
                        self.corrected += 1
                    else:
                        self.db.confirm_field(sheet_id, f.name, self.user)
                        self.confirmed += 1
                else:
                    self.db.correct_field(sheet_id, f.name, answer, self.user)
                    self.corrected += 1
            except Exception as exc:  # InvalidEdit and friends: say why, ask again
                from marksocr.domain import MarksocrError

                if not isinstance(exc, MarksocrError):
                    raise
                self.say(f"  {exc}")
                continue
            index += 1
        self._offer_verify(sheet_id)

    def _offer_verify(self, sheet_id: int) -> None:
        sheet = self.db.get_sheet(sheet_id)
        marks = [f for f in sheet.fields if f.kind == FieldKind.MARK.value]
        total = next((f for f in sheet.fields if f.kind == FieldKind.TOTAL.value), None)
        try:
            s = sum(float(f.value) for f in marks if f.value)
            line = f"  marks sum {s:g}"
            if total is not None and total.value:
                ok = abs(s - float(total.value)) < 1e-6
                line += f", total {total.value} " + ("(matches)" if ok else "(DOES NOT MATCH)")
            self.say(line)
        except ValueError:
            pass
        answer = self.ask("  verify this sheet? [Enter=yes, n=later, q=quit]: ").lower()
        if answer == "q":
            raise _Quit()
        if answer in ("", "y", "yes"):
            self.db.verify_sheet(sheet_id, self.user)
            self.verified += 1
            self.say("  verified")
        else:
            self.say("  left for later")
