"""Reading an uploaded workbook strictly, row by row, in constant memory.

openpyxl in read-only mode parses each sheet's XML as a stream; this module drives its sheet
parser directly so that, besides the rows, it learns what read-only mode otherwise drops:
which cells hold a formula (refused: a value belongs there) and which ranges are merged
(refused where data belongs; the sheet's merge list comes after its rows, so merges are
reported when the sheet has been read).

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

from openpyxl.reader.excel import ExcelReader
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.utils.exceptions import InvalidFileException

from fundmgr.ground.lib.errors import FieldError

from .errors import BooksError
from .layout import (
    BOOL,
    CHOICE,
    DATE,
    DECIMAL_PLACES,
    INT,
    MONEY,
    NO,
    PERCENT,
    RATE,
    SIGNED_MONEY,
    TEXT,
    YES,
    Col,
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


class _Package(ExcelReader):
    """openpyxl's reading of the package (shared strings, styles, the list of sheets) without
    creating its sheet objects: a read-only sheet measures itself when created, and a sheet
    that lacks a <dimension> element is then parsed whole, in memory. Sheets are streamed by
    `WorkbookReader.rows` instead."""

    def read_worksheets(self) -> None:
        self.sheet_paths: dict[str, str] = {}
        for sheet, rel in self.parser.find_sheets():
            if rel.target in self.valid_files and "chartsheet" not in rel.Type:
                self.sheet_paths[sheet.name] = rel.target


class WorkbookReader:
    """An open workbook; `rows(name)` streams one sheet. Close it when done."""

    def __init__(self, source: str | IO[bytes]) -> None:
        self._own: IO[bytes] | None = None
        try:
            if isinstance(source, str):  # opened here: judged by its content, not its name's extension
                source = self._own = open(source, "rb")  # closed by close()
            self.package = _Package(source, read_only=True, keep_vba=False, data_only=False, keep_links=False)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. names defined on sheets not created here
                self.package.read()
            self.book = self.package.wb
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError) as exc:
            self._close_own()
            raise BadWorkbook(
                BooksError.NOT_XLSX,
                "文件不是可读取的 Excel 工作簿（.xlsx）。请用 Excel 或 WPS 另存为“Excel 工作簿(*.xlsx)”后再上传"
                f"（{exc.__class__.__name__}）",
            ) from exc
        except Exception as exc:  # a damaged package inside a valid zip: never a 500
            self._close_own()
            raise BadWorkbook(
                BooksError.NOT_XLSX, f"Excel 工作簿已损坏，无法读取（{exc.__class__.__name__}）"
            ) from exc
        self.merged: dict[str, list[str]] = {}

    @property
    def sheet_names(self) -> list[str]:
        return list(self.package.sheet_paths)

    def _open(self, name: str) -> IO[bytes]:
        return self.package.archive.open(self.package.sheet_paths[name])

    def rows(self, name: str) -> Iterator[tuple[int, dict[int, tuple[Any, str]]]]:
        """(row number, {column number: (value, data type)}) for each row with a cell in it;
        data types are openpyxl's: n (number), s (text), b (boolean), d (date), f (formula),
        e (error value). After the last row, `self.merged[name]` lists the merged ranges.

        The sheet's XML is fed in blocks to the C parser with a target that keeps only the row
        being read (no element tree is built): openpyxl's own cell objects cost several times
        more per cell. What a cell means (shared strings, the styles that make a number a date,
        the epoch) is still openpyxl's reading of the workbook."""
        source = self._open(name)
        target = _SheetTarget(self.package.shared_strings, self.book._date_formats, self.book.epoch)
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
            raise BadWorkbook(BooksError.NOT_XLSX, f"工作表“{name}”已损坏，无法读取（{exc}）") from exc
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
        self.package.archive.close()
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


def _looks_like_date(text: str) -> bool:
    digits = sum(ch.isdigit() for ch in text)
    return digits >= 4 and any(sep in text for sep in "-/.年")


def typed(col: Col, value: Any, data_type: str) -> Any | Problem:
    """The cell's value as `col` declares it, or the Problem that refuses it."""
    if data_type == "f":
        return Problem(BooksError.FORMULA_NOT_ALLOWED, f"“{col.header}”须填写数值，不能是公式（{value}）")
    if data_type == "e":
        return Problem(BooksError.ERROR_VALUE, f"“{col.header}”的单元格是错误值 {value}")
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
                    f"“{col.header}”是文本“{value}”，须为 Excel 日期单元格（请将单元格设为日期格式后重新输入）",
                )
            return Problem(BooksError.NOT_A_DATE, f"“{col.header}”须为日期，而不是“{value}”")
        return Problem(BooksError.NOT_A_DATE, f"“{col.header}”须为日期单元格，而不是数值 {value}")
    if kind in (MONEY, SIGNED_MONEY, PERCENT, RATE, INT):
        if isinstance(value, str):
            if _looks_numeric(value):
                return Problem(
                    BooksError.NUMBER_AS_TEXT,
                    f"“{col.header}”是文本“{value}”，须为数值单元格（不能以文本格式存储数字）",
                )
            return Problem(BooksError.NOT_A_NUMBER, f"“{col.header}”须为数值，而不是“{value}”")
        number = _decimal(value)
        if number is None or not number.is_finite():
            return Problem(BooksError.NOT_A_NUMBER, f"“{col.header}”须为数值")
        if kind == INT:
            if number != number.to_integral_value():
                return Problem(BooksError.NOT_A_WHOLE_NUMBER, f"“{col.header}”须为整数，而不是 {number}")
            if number < 0:
                return Problem(FieldError.MIN_VALUE, f"“{col.header}”不能为负数")
            return int(number)
        places = DECIMAL_PLACES[kind]
        exponent = number.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            return Problem(
                FieldError.MAX_DECIMAL_PLACES, f"“{col.header}”最多{places}位小数，而不是 {number}"
            )
        if kind != SIGNED_MONEY and number < 0:
            return Problem(FieldError.MIN_VALUE, f"“{col.header}”不能为负数")
        if kind == PERCENT and number > 100:
            return Problem(FieldError.MAX_VALUE, f"“{col.header}”须在 0 至 100 之间，而不是 {number}")
        quantum = Decimal(1).scaleb(-places)
        number = number.quantize(quantum)
        if len(number.as_tuple().digits) > MAX_DIGITS:
            return Problem(FieldError.MAX_DIGITS, f"“{col.header}”数值过大")
        return number
    if kind == BOOL:
        if isinstance(value, bool):
            return value
        text = str(value).strip()
        if text in (YES, "Y", "y", "TRUE", "true", "True"):
            return True
        if text in (NO, "N", "n", "FALSE", "false", "False"):
            return False
        return Problem(BooksError.NOT_YES_NO, f"“{col.header}”须填“{YES}”或“{NO}”，而不是“{value}”")
    # text and choices: a number typed into a text cell is read as the digits shown
    if isinstance(value, bool):
        text = YES if value else NO
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, (dt.date, dt.datetime)):
        text = value.isoformat()[:10]
    else:
        text = str(value).strip()
    if kind == CHOICE:
        found = col.choice_lookup.get(text)
        if found is not None:
            return found
        return Problem(
            FieldError.INVALID_CHOICE,
            f"“{col.header}”不能为“{text}”，可选值：{'、'.join(col.choice_labels())}",
        )
    assert kind == TEXT
    if col.max_length is not None and len(text) > col.max_length:
        return Problem(
            FieldError.MAX_LENGTH, f"“{col.header}”不能超过{col.max_length}个字符（现为{len(text)}个）"
        )
    return text
