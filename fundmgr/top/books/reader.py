"""Reading an uploaded workbook strictly, row by row, in constant memory.

openpyxl reads the package (its list of sheets, shared strings, styles, the date epoch) with
its public reader classes; each sheet's XML is then streamed here, so that, besides the rows,
this module learns what openpyxl's read-only mode otherwise drops: which cells hold a formula
(refused: a value belongs there) and which ranges are merged (refused where data belongs; the
sheet's merge list comes after its rows, so merges are reported when the sheet has been read).
openpyxl's read-only worksheets are not used: each measures itself when created, and a sheet
without a <dimension> element is then parsed whole once more.

Values are typed by the column's declared kind and nothing is guessed: a date must be an Excel
date, not text that looks like one; a number must be a number; money has at most two places.
A float from Excel is turned into a Decimal through its shortest repr (what the user typed),
never used as a float.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import IO, Any
from xml.etree import ElementTree

from django.utils.translation import gettext as _
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import Stylesheet
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.xml.constants import ARC_STYLE
from openpyxl.xml.functions import fromstring

from fundmgr.ground.lib.errors import FieldError

from .errors import BooksError
from .layout import (
    BOOL,
    CHOICE,
    CHOICES,
    DATE,
    DECIMAL_PLACES,
    INT,
    LIST_SEPARATORS,
    MONEY,
    NO,
    PERCENT,
    RATE,
    SIGNED_MONEY,
    TEXT,
    YES,
    Col,
    yes_no,
)

MAX_DIGITS = 18  # every amount column is DecimalField(max_digits=18)
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][-.\w]*:)?row[\s>/]")
_MERGE_TAG = re.compile(rb"<(?:[A-Za-z_][-.\w]*:)?mergeCell\s+ref=\"([A-Z]+[0-9]+:[A-Z]+[0-9]+)\"")


class BadWorkbook(Exception):
    """The file cannot be read as a workbook at all."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Problem:
    """Why one cell's value is refused."""

    code: str
    message: str


def _date_styles(archive) -> set[int]:
    """The cell styles whose number format is a date, read with openpyxl's Stylesheet."""
    try:
        source = archive.read(ARC_STYLE)
    except KeyError:
        return set()
    return set(Stylesheet.from_tree(fromstring(source)).date_formats)


class WorkbookReader:
    """An open workbook; `rows(name)` streams one sheet. Close it when done."""

    def __init__(self, source: str | IO[bytes]) -> None:
        self._own: IO[bytes] | None = None
        try:
            if isinstance(source, str):  # opened here: judged by its content, not its name's extension
                source = self._own = open(source, "rb")  # closed by close()
            package = ExcelReader(source, read_only=True, keep_vba=False, data_only=False, keep_links=False)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. an invalid sheet entry openpyxl drops
                package.read_manifest()
                package.read_strings()
                package.read_workbook()
                self.sheet_paths: dict[str, str] = {
                    sheet.name: rel.target
                    for sheet, rel in package.parser.find_sheets()
                    if rel.target in package.valid_files and "chartsheet" not in rel.Type
                }
            self.archive = package.archive
            self.shared_strings = package.shared_strings
            self.epoch = package.wb.epoch
            self.date_styles = _date_styles(self.archive)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError) as exc:
            self._close_own()
            raise BadWorkbook(
                BooksError.NOT_XLSX,
                _(
                    "文件不是可读取的 Excel 工作簿（.xlsx）。请用 Excel 或 WPS 另存为“Excel 工作簿(*.xlsx)”后再上传"
                    "（%(reason)s）"
                )
                % {"reason": exc.__class__.__name__},
            ) from exc
        except Exception as exc:  # a damaged package inside a valid zip: never a 500
            self._close_own()
            raise BadWorkbook(
                BooksError.NOT_XLSX,
                _("Excel 工作簿已损坏，无法读取（%(reason)s）") % {"reason": exc.__class__.__name__},
            ) from exc
        self.merged: dict[str, list[str]] = {}

    @property
    def sheet_names(self) -> list[str]:
        return list(self.sheet_paths)

    def _open(self, name: str) -> IO[bytes]:
        return self.archive.open(self.sheet_paths[name])

    def rows(self, name: str) -> Iterator[tuple[int, dict[int, tuple[Any, str]]]]:
        """(row number, {column number: (value, data type)}) for each row with a cell in it;
        data types are openpyxl's: n (number), s (text), b (boolean), d (date), f (formula),
        e (error value). After the last row, `self.merged[name]` lists the merged ranges.

        The sheet's XML is fed in blocks to the C parser with a target that keeps only the row
        being read (no element tree is built): openpyxl's own cell objects cost several times
        more per cell. What a cell means (shared strings, the styles that make a number a date,
        the epoch) is still openpyxl's reading of the workbook."""
        source = self._open(name)
        target = _SheetTarget(self.shared_strings, self.date_styles, self.epoch)
        parser = ElementTree.XMLParser(target=target)
        try:
            while block := source.read(1 << 16):
                parser.feed(block)
                if target.rows:
                    ready, target.rows = target.rows, []
                    yield from ready
            parser.close()
            yield from target.rows
        except ElementTree.ParseError as exc:
            raise BadWorkbook(
                BooksError.NOT_XLSX,
                _("工作表“%(sheet)s”已损坏，无法读取（%(reason)s）") % {"sheet": name, "reason": exc},
            ) from exc
        finally:
            source.close()
        self.merged[name] = target.merged

    def scan(self, name: str) -> tuple[int, list[str]]:
        """How many rows the sheet's XML holds, and its merged ranges, read on the raw bytes
        (a second or so for a million rows, where parsing them takes several): the size limit
        is enforced, and merged cells are known, before any row is parsed."""
        source = self._open(name)
        count, tail, merges = 0, b"", []
        try:
            while block := source.read(1 << 20):
                data = tail + block
                count += sum(1 for m in _ROW_TAG.finditer(data) if m.end() > len(tail))
                merges += [m[1].decode() for m in _MERGE_TAG.finditer(data) if m.end() > len(tail)]
                tail = data[-64:]
        finally:
            source.close()
        return count, merges

    def close(self) -> None:
        self.archive.close()
        self._close_own()

    def _close_own(self) -> None:
        if self._own is not None:
            self._own.close()


_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL, _VALUE, _FORMULA, _INLINE, _TEXT = (f"{_NS}{t}" for t in ("row", "c", "v", "f", "is", "t"))
_MERGE = f"{_NS}mergeCell"
_COLUMNS: dict[str, int] = {}


def _column(reference: str) -> int:
    """The column number of a cell reference (B12 → 2), cached per letters."""
    letters = reference.rstrip("0123456789")
    number = _COLUMNS.get(letters)
    if number is None:
        number = 0
        for ch in letters:
            number = number * 26 + (ord(ch.upper()) - 64)
        _COLUMNS[letters] = number
    return number


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


class _SheetTarget:
    """Parser target for one worksheet: collects each finished row's non-empty cells."""

    def __init__(self, shared, date_styles, epoch) -> None:
        self.shared, self.date_styles, self.epoch = shared, date_styles, epoch
        self.rows: list[tuple[int, dict[int, tuple[Any, str]]]] = []
        self.merged: list[str] = []
        self.row_number = 0
        self.values: dict[int, tuple[Any, str]] = {}
        self.column = 0
        self.kind = "n"
        self.style: str | None = None
        self.text: list[str] | None = None  # collecting a <v>, <f> or inline <t>
        self.value: str | None = None
        self.formula: str | None = None
        self.inline: list[str] | None = None

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == _CELL:
            reference = attrs.get("r")
            self.column = _column(reference) if reference else self.column + 1
            self.kind = attrs.get("t", "n")
            self.style = attrs.get("s")
            self.value = self.formula = self.inline = None
        elif tag == _VALUE or tag == _FORMULA:
            self.text = []
        elif tag == _INLINE:
            self.inline = []
        elif tag == _TEXT and self.inline is not None:
            self.text = []
        elif tag == _ROW:
            number = attrs.get("r")
            self.row_number = int(number) if number else self.row_number + 1
            self.values = {}
            self.column = 0
        elif tag == _MERGE:
            ref = attrs.get("ref")
            if ref:
                self.merged.append(ref)

    def data(self, text: str) -> None:
        if self.text is not None:
            self.text.append(text)

    def end(self, tag: str) -> None:
        if tag == _VALUE:
            self.value, self.text = "".join(self.text or ()), None
        elif tag == _FORMULA:
            self.formula, self.text = "".join(self.text or ()), None
        elif tag == _TEXT and self.inline is not None:
            self.inline.append("".join(self.text or ()))
            self.text = None
        elif tag == _CELL:
            cell = self._cell()
            if cell is not None:
                self.values[self.column] = cell
        elif tag == _ROW:
            if self.values:
                self.rows.append((self.row_number, self.values))
            self.values = {}

    def _cell(self) -> tuple[Any, str] | None:
        if self.formula is not None:
            return "=" + self.formula, "f"
        kind, raw = self.kind, self.value
        if kind == "inlineStr":
            text = "".join(self.inline or ())
            return (text, "s") if text else None
        if raw is None or raw == "":
            return None
        if kind == "s":
            text = self.shared[int(raw)]
            return (str(text), "s") if text else None
        if kind == "n":
            number = _number(raw)
            if self.style and int(self.style) in self.date_styles:
                try:
                    return from_excel(number, self.epoch), "d"
                except (OverflowError, ValueError):
                    return "#VALUE!", "e"
            return number, "n"
        if kind == "b":
            return raw == "1", "b"
        if kind == "str":
            return raw, "s"
        if kind == "d":
            return from_ISO8601(raw), "d"
        if kind == "e":
            return raw, "e"
        return raw, "s"

    def close(self) -> None:
        return None


def merged_cells(ref: str) -> tuple[int, int, int, int]:
    """(min column, min row, max column, max row) of a range such as B3:C4."""
    return range_boundaries(ref)


def letter(column: int) -> str:
    return get_column_letter(column)


# --- typing one cell ------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        try:
            return Decimal(repr(value))
        except InvalidOperation:
            return None
    return None


def _looks_numeric(text: str) -> bool:
    try:
        Decimal(text.replace(",", "").strip())
        return True
    except InvalidOperation:
        return False


# What separates the parts of a date typed as text (2021-01-04, 2021/1/4, 2021.1.4, 2021年1月4日).
DATE_SEPARATORS = "-/.年"


def _looks_like_date(text: str) -> bool:
    digits = sum(ch.isdigit() for ch in text)
    return digits >= 4 and any(sep in text for sep in DATE_SEPARATORS)


def _text(value: Any) -> str:
    """A text or choice cell as the user sees it: a number typed into it reads as its digits."""
    if isinstance(value, bool):
        return str(YES if value else NO)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return str(value).strip()


def _choice(col: Col, text: str) -> str | Problem:
    found = col.choice_lookup.get(text)
    if found is not None:
        return found
    return Problem(
        FieldError.INVALID_CHOICE,
        _("“%(column)s”不能为“%(value)s”，可选值：%(allowed)s")
        % {"column": col.header, "value": text, "allowed": "、".join(col.choice_labels())},
    )


def _typed_number(col: Col, value: Any) -> Any:
    kind = col.kind
    if isinstance(value, str):
        if _looks_numeric(value):
            return Problem(
                BooksError.NUMBER_AS_TEXT,
                _("“%(column)s”是文本“%(value)s”，须为数值单元格（不能以文本格式存储数字）")
                % {"column": col.header, "value": value},
            )
        return Problem(
            BooksError.NOT_A_NUMBER,
            _("“%(column)s”须为数值，而不是“%(value)s”") % {"column": col.header, "value": value},
        )
    number = _decimal(value)
    if number is None or not number.is_finite():
        return Problem(BooksError.NOT_A_NUMBER, _("“%(column)s”须为数值") % {"column": col.header})
    if kind == INT:
        if number != number.to_integral_value():
            return Problem(
                BooksError.NOT_A_WHOLE_NUMBER,
                _("“%(column)s”须为整数，而不是 %(value)s") % {"column": col.header, "value": number},
            )
        if number < 0:
            return Problem(FieldError.MIN_VALUE, _("“%(column)s”不能为负数") % {"column": col.header})
        return int(number)
    places = DECIMAL_PLACES[kind]
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        return Problem(
            FieldError.MAX_DECIMAL_PLACES,
            _("“%(column)s”最多%(places)s位小数，而不是 %(value)s")
            % {"column": col.header, "places": places, "value": number},
        )
    if kind != SIGNED_MONEY and number < 0:
        return Problem(FieldError.MIN_VALUE, _("“%(column)s”不能为负数") % {"column": col.header})
    if kind == PERCENT and number > 100:
        return Problem(
            FieldError.MAX_VALUE,
            _("“%(column)s”须在 0 至 100 之间，而不是 %(value)s") % {"column": col.header, "value": number},
        )
    number = number.quantize(Decimal(1).scaleb(-places))
    if len(number.as_tuple().digits) > MAX_DIGITS:
        return Problem(FieldError.MAX_DIGITS, _("“%(column)s”数值过大") % {"column": col.header})
    return number


def typed(col: Col, value: Any, data_type: str) -> Any | Problem:
    """The cell's value as `col` declares it, or the Problem that refuses it."""
    if data_type == "f":
        return Problem(
            BooksError.FORMULA_NOT_ALLOWED,
            _("“%(column)s”须填写数值，不能是公式（%(formula)s）") % {"column": col.header, "formula": value},
        )
    if data_type == "e":
        return Problem(
            BooksError.ERROR_VALUE,
            _("“%(column)s”的单元格是错误值 %(value)s") % {"column": col.header, "value": value},
        )
    kind = col.kind
    if kind == DATE:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            if _looks_like_date(value):
                return Problem(
                    BooksError.DATE_AS_TEXT,
                    _(
                        "“%(column)s”是文本“%(value)s”，须为 Excel 日期单元格（请将单元格设为日期格式后重新输入）"
                    )
                    % {"column": col.header, "value": value},
                )
            return Problem(
                BooksError.NOT_A_DATE,
                _("“%(column)s”须为日期，而不是“%(value)s”") % {"column": col.header, "value": value},
            )
        return Problem(
            BooksError.NOT_A_DATE,
            _("“%(column)s”须为日期单元格，而不是数值 %(value)s") % {"column": col.header, "value": value},
        )
    if kind in (MONEY, SIGNED_MONEY, PERCENT, RATE, INT):
        return _typed_number(col, value)
    if kind == BOOL:
        if isinstance(value, bool):
            return value
        found = yes_no(str(value).strip())
        if found is not None:
            return found
        return Problem(
            BooksError.NOT_YES_NO,
            _("“%(column)s”须填“%(yes)s”或“%(no)s”，而不是“%(value)s”")
            % {"column": col.header, "yes": YES, "no": NO, "value": value},
        )
    text = _text(value)
    if kind == CHOICE:
        return _choice(col, text)
    if kind == CHOICES:
        values = []
        for part in (p.strip() for p in re.split(f"[{LIST_SEPARATORS}]", text)):
            if part:
                found = _choice(col, part)
                if isinstance(found, Problem):
                    return found
                if found not in values:
                    values.append(found)
        return values
    assert kind == TEXT
    if col.max_length is not None and len(text) > col.max_length:
        return Problem(
            FieldError.MAX_LENGTH,
            _("“%(column)s”不能超过%(max)s个字符（现为%(length)s个）")
            % {"column": col.header, "max": col.max_length, "length": len(text)},
        )
    return text
