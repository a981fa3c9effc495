"""Load, validate and save sheet templates (``marksocr.template/1`` JSON).

A template says where the handwritten fields are on one kind of answer sheet
(see ``shared/spec/interfaces.md`` section 1). Sheets printed by
``marksocr template new`` add two optional keys, ``page_size`` and ``markers``
(see ``docs/ARCHITECTURE.md``).

Every problem is a :class:`~marksocr.domain.TemplateError` whose message names
the file and the key, e.g. ``"T.json: fields[2]: missing key 'box'"``. Required:
``fields`` (each with ``name``, ``kind``, ``box``) and ``reference_image`` unless the
template has ``markers``. A missing ``schema`` or ``name`` is accepted with a warning
(the spec's rules do not require them); a different ``schema`` is an error.
Unknown keys are kept (``Template.raw``, ``FieldSpec.extra``) but otherwise ignored.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional, Union

from marksocr.domain import FieldKind, FieldSpec, Template, TemplateError

log = logging.getLogger(__name__)

SCHEMA = "marksocr.template/1"
_FIELD_KEYS = ("name", "kind", "box", "cells", "max")
_BOX_TOLERANCE = 1e-6
_ARUCO_DICTIONARIES = ("DICT_4X4_50", "DICT_4X4_100", "DICT_4X4_250", "DICT_4X4_1000",
                       "DICT_5X5_50", "DICT_5X5_100", "DICT_5X5_250", "DICT_5X5_1000",
                       "DICT_6X6_50", "DICT_6X6_100", "DICT_6X6_250", "DICT_6X6_1000",
                       "DICT_7X7_50", "DICT_7X7_100", "DICT_7X7_250", "DICT_7X7_1000",
                       "DICT_ARUCO_ORIGINAL")

PathLike = Union[str, os.PathLike]


def load_template(path: PathLike) -> Template:
    """Read and validate a template file.

    ``reference_image`` is resolved relative to the template file and must exist.
    ``page_size`` is taken from the reference image when the file does not give it.

    Raises:
        TemplateError: the file is missing, not JSON, or breaks the schema; the
            message names the file and the offending key.
    """
    src = str(path)
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TemplateError(f"{src}: template file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{src}: cannot read template file ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TemplateError(f"{src}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    return template_from_dict(data, source=src, base_dir=p.resolve().parent, check_files=True)


def template_from_dict(data: Any, source: str = "<template>", base_dir: Optional[Path] = None,
                       check_files: bool = True) -> Template:
    """Validate a template JSON object (already parsed) and build a :class:`Template`.

    Args:
        data: the parsed JSON object.
        source: how to name the template in error messages (usually its file path).
        base_dir: folder that a relative ``reference_image`` is relative to
            (default: the current directory).
        check_files: when True, the reference image must exist (and gives
            ``page_size`` when absent).
    """
    if not isinstance(data, Mapping):
        raise TemplateError(f"{source}: the template must be a JSON object, not {_json_type(data)}")
    schema = data.get("schema")
    if schema is None:  # the spec's example has it, its rules do not require it: accept, but say so
        log.warning("%s: no 'schema' key; reading it as %s", source, SCHEMA)
    elif schema != SCHEMA:
        raise TemplateError(f"{source}: schema: expected {SCHEMA!r}, got {schema!r}")
    name = data.get("name")
    if name is None:
        name = Path(source).stem if not source.startswith("<") else "template"
        log.warning("%s: no 'name' key; calling the template %r", source, name)
    if not isinstance(name, str) or not name.strip():
        raise TemplateError(f"{source}: name: must be a non-empty string")
    fields = _parse_fields(_require(data, "fields", source), source)
    markers = _parse_markers(data["markers"], source) if data.get("markers") is not None else None
    page_size = _parse_page_size(data["page_size"], source) if data.get("page_size") is not None else None
    reference = _parse_reference(data, source, base_dir, check_files, has_markers=markers is not None)
    if page_size is None and reference is not None and check_files:
        page_size = _image_size(reference, source)
    path = None if source.startswith("<") else Path(source).resolve()
    return Template(name=name, fields=fields, reference_image=reference, path=path,
                    markers=markers, page_size=page_size, raw=dict(data))


def template_to_dict(template: Template, base_dir: Optional[Path] = None) -> dict[str, Any]:
    """The JSON object of a template (unknown keys of the original kept).

    ``reference_image`` is written relative to ``base_dir`` when given (the folder
    the JSON will be saved in), else relative to the template's own file, else as is.
    """
    out: dict[str, Any] = {k: v for k, v in template.raw.items() if k not in ("fields",)}
    out["schema"] = SCHEMA
    out["name"] = template.name
    if template.reference_image is not None:
        base = base_dir or (template.path.parent if template.path else None)
        out["reference_image"] = _relative(template.reference_image, base)
    if template.page_size is not None:
        out["page_size"] = [int(template.page_size[0]), int(template.page_size[1])]
    if template.markers is not None:
        out["markers"] = _plain(template.markers)
    out["fields"] = [_field_to_dict(f) for f in template.fields]
    ordered = {k: out.pop(k) for k in ("schema", "name", "reference_image", "page_size", "markers") if k in out}
    ordered.update(out)
    ordered["fields"] = ordered.pop("fields")
    return ordered


def save_template(template: Union[Template, Mapping[str, Any]], path: PathLike) -> Path:
    """Write a template (a :class:`Template` or its JSON object) to ``path`` as JSON.

    The object is validated first (the reference image need not exist yet), so a
    bad template is never written. Returns the path written.
    """
    p = Path(path)
    if isinstance(template, Template):
        data = template_to_dict(template, base_dir=p.resolve().parent)
    else:
        data = _plain(template)
    template_from_dict(data, source=str(p), base_dir=p.resolve().parent, check_files=False)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, p)
    log.info("wrote template %s", p)
    return p


# --------------------------------------------------------------------------- fields

def _parse_fields(value: Any, source: str) -> tuple[FieldSpec, ...]:
    if not isinstance(value, list):
        raise TemplateError(f"{source}: fields: must be a list of field objects, not {_json_type(value)}")
    if not value:
        raise TemplateError(f"{source}: fields: the template has no fields")
    specs = tuple(_parse_field(item, f"{source}: fields[{i}]") for i, item in enumerate(value))
    seen: dict[str, int] = {}
    for i, spec in enumerate(specs):
        if spec.name in seen:
            raise TemplateError(f"{source}: fields[{i}]: name {spec.name!r} is already used by fields[{seen[spec.name]}]")
        seen[spec.name] = i
    return specs


def _parse_field(item: Any, where: str) -> FieldSpec:
    if not isinstance(item, Mapping):
        raise TemplateError(f"{where}: must be an object, not {_json_type(item)}")
    for key in ("name", "kind", "box"):
        if key not in item:
            raise TemplateError(f"{where}: missing key {key!r}")
    name = item["name"]
    if not isinstance(name, str) or not name.strip():
        raise TemplateError(f"{where}: name: must be a non-empty string")
    where = f"{where} ({name})"
    kind = item["kind"]
    if not isinstance(kind, str) or not kind.strip():
        raise TemplateError(f"{where}: kind: must be a string such as 'mark', 'total', 'roll_no', 'subject_code'")
    box = _parse_box(item["box"], f"{where}: box")
    cells = _parse_cells(item.get("cells"), f"{where}: cells")
    max_ = _parse_max(item.get("max"), f"{where}: max")
    extra = {k: v for k, v in item.items() if k not in _FIELD_KEYS}
    return FieldSpec(name=name, kind=FieldKind.parse(kind), box=box, cells=cells, max=max_, extra=extra)


def _parse_box(value: Any, where: str) -> tuple[float, float, float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 4 or not all(_is_number(v) for v in value):
        raise TemplateError(f"{where}: must be [x, y, width, height] (4 numbers), got {value!r}")
    x, y, w, h = (float(v) for v in value)
    if not all(0.0 <= v <= 1.0 for v in (x, y, w, h)):
        raise TemplateError(f"{where}: values must be fractions of the page between 0 and 1, got {value!r}")
    if w <= 0 or h <= 0:
        raise TemplateError(f"{where}: width and height must be greater than 0, got {value!r}")
    if x + w > 1 + _BOX_TOLERANCE or y + h > 1 + _BOX_TOLERANCE:
        raise TemplateError(f"{where}: the box extends beyond the page (x+width={x + w:.4g}, y+height={y + h:.4g})")
    return (x, y, w, h)


def _parse_cells(value: Any, where: str) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise TemplateError(f"{where}: must be a whole number, got {value!r}")
    if value < 1:
        raise TemplateError(f"{where}: must be at least 1, got {value!r}")
    return int(value)


def _parse_max(value: Any, where: str) -> Optional[float]:
    if value is None:
        return None
    if not _is_number(value) or value <= 0:
        raise TemplateError(f"{where}: must be a number greater than 0, got {value!r}")
    return float(value)


# --------------------------------------------------------------------------- page

def _parse_page_size(value: Any, source: str) -> tuple[int, int]:
    where = f"{source}: page_size"
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(_is_number(v) and int(v) == v and v > 0 for v in value)):
        raise TemplateError(f"{where}: must be [width, height] in pixels (2 positive whole numbers), got {value!r}")
    return (int(value[0]), int(value[1]))


def _parse_markers(value: Any, source: str) -> dict[str, Any]:
    where = f"{source}: markers"
    if not isinstance(value, Mapping):
        raise TemplateError(f"{where}: must be an object, not {_json_type(value)}")
    for key in ("dictionary", "size", "positions"):
        if key not in value:
            raise TemplateError(f"{where}: missing key {key!r}")
    if value["dictionary"] not in _ARUCO_DICTIONARIES:
        raise TemplateError(f"{where}: dictionary: unknown ArUco dictionary {value['dictionary']!r}")
    size = value["size"]
    if not _is_number(size) or not 0 < size < 0.5:
        raise TemplateError(f"{where}: size: must be a fraction of the page width between 0 and 0.5, got {size!r}")
    positions = value["positions"]
    if not isinstance(positions, Mapping) or len(positions) < 3:
        raise TemplateError(f"{where}: positions: must map at least 3 marker ids to [x, y]")
    parsed: dict[str, list[float]] = {}
    for mid, xy in positions.items():
        if not str(mid).isdigit():
            raise TemplateError(f"{where}: positions: marker id {mid!r} is not a whole number")
        if (not isinstance(xy, (list, tuple)) or len(xy) != 2 or not all(_is_number(v) for v in xy)
                or not all(0.0 <= v <= 1.0 for v in xy)):
            raise TemplateError(f"{where}: positions[{mid!r}]: must be [x, y] fractions between 0 and 1, got {xy!r}")
        parsed[str(mid)] = [float(xy[0]), float(xy[1])]
    out = dict(value)
    out["size"] = float(size)
    out["positions"] = parsed
    return out


def _parse_reference(data: Mapping[str, Any], source: str, base_dir: Optional[Path],
                     check_files: bool, has_markers: bool) -> Optional[Path]:
    value = data.get("reference_image")
    if value is None:
        if has_markers:
            return None
        raise TemplateError(f"{source}: missing key 'reference_image' (needed when the template has no 'markers')")
    if not isinstance(value, str) or not value.strip():
        raise TemplateError(f"{source}: reference_image: must be a file path (string), got {value!r}")
    ref = Path(value)
    if not ref.is_absolute():
        ref = (base_dir or Path.cwd()) / ref
    ref = ref.resolve()
    if check_files and not ref.is_file():
        raise TemplateError(f"{source}: reference_image: file {value!r} not found (looked for {ref})")
    return ref


def _image_size(path: Path, source: str) -> tuple[int, int]:
    """Width and height of an image from its header, EXIF orientation applied."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            w, h = im.size
            orientation = im.getexif().get(0x0112, 1)
        return (h, w) if orientation in (5, 6, 7, 8) else (w, h)
    except (OSError, UnidentifiedImageError):
        pass
    from marksocr.domain import InputError
    from marksocr.imaging.io import load_image

    try:  # a PDF, or something only the full loader understands
        h, w = load_image(path).shape
    except InputError as exc:
        raise TemplateError(f"{source}: reference_image: {exc}") from None
    return (w, h)


# --------------------------------------------------------------------------- helpers

def _require(data: Mapping[str, Any], key: str, source: str) -> Any:
    if key not in data:
        raise TemplateError(f"{source}: missing key {key!r}")
    return data[key]


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _json_type(v: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number",
            bool: "true/false", type(None): "null"}.get(type(v), type(v).__name__)


def _field_to_dict(f: FieldSpec) -> dict[str, Any]:
    d: dict[str, Any] = {"name": f.name, "kind": f.kind.value if isinstance(f.kind, FieldKind) else f.kind,
                         "box": [round(float(v), 6) for v in f.box]}
    if f.cells is not None:
        d["cells"] = int(f.cells)
    if f.max is not None:
        d["max"] = int(f.max) if float(f.max).is_integer() else float(f.max)
    d.update(_plain(dict(f.extra)))
    return d


def _relative(path: Path, base: Optional[Path]) -> str:
    if base is not None:
        try:
            return Path(os.path.relpath(path, base)).as_posix()
        except ValueError:  # other drive on Windows
            pass
    return Path(path).as_posix()


def _plain(obj: Any) -> Any:
    """A JSON-serialisable deep copy (mappings -> dict, tuples -> list)."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj
