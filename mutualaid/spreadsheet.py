"""Reading a CSV file as spreadsheet apps write it: Google Sheets (UTF-8, commas), Excel
("CSV UTF-8": a byte-order mark first, and semicolons where the decimal mark is a
comma, as in Spanish), LibreOffice (either). A file that is not such a CSV (a .xlsx, a
picture, text in another encoding) gets a message that says what to do, never a crash.

Columns are found by their header, whatever its case, spacing or order, in any of the
app's languages: `name`, `Name`, `Nombre` and `الاسم` all name the column "name"."""

import csv
import io
import re
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

MAX_BYTES = 1024 * 1024
MAX_ROWS = 2000
DELIMITERS = ",;\t"


class SpreadsheetError(Exception):
    """The file cannot be read: the message says why, for the person who uploaded it."""


@dataclass
class Column:
    key: str
    # Header words that name the column, translated: each language's form is accepted.
    labels: list
    required: bool = True


@dataclass
class Row:
    number: int  # as the spreadsheet numbers it: the header is row 1
    cells: dict


def _normal(header):
    return " ".join(re.sub(r"[_\-.:*]+", " ", header).split()).casefold()


def _header_words(column):
    words = {_normal(column.key)}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            words.update(_normal(str(label)) for label in column.labels)
    return words


def read_csv(upload, columns, *, max_bytes=MAX_BYTES, max_rows=MAX_ROWS) -> list[Row]:
    """The rows of the uploaded CSV file `upload`, each with a cell for every column (""
    where the file has none). Rows with nothing in them are skipped. Raises
    SpreadsheetError when the file is too big, is not a CSV file, lacks a needed column
    or has too many rows."""
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise SpreadsheetError(
            _("The file is too big: at most %(size)s KB, please.") % {"size": max_bytes // 1024}
        )
    text = _decode(data)
    if not text.strip():
        raise SpreadsheetError(_("The file is empty."))
    lines = text.splitlines()
    delimiter = _delimiter(lines[0])
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as error:
        raise SpreadsheetError(
            _("This file is not a CSV file we can read (%(problem)s).") % {"problem": error}
        ) from error
    header, *body = records
    positions = {}
    words = {column.key: _header_words(column) for column in columns}
    for index, cell in enumerate(header):
        normal = _normal(cell)
        for column in columns:
            if normal in words[column.key] and column.key not in positions:
                positions[column.key] = index
                break
    missing = [column for column in columns if column.required and column.key not in positions]
    if missing:
        raise SpreadsheetError(
            _(
                "The first row must name the columns. Missing: %(missing)s. "
                "The first row of this file reads: %(header)s."
            )
            % {
                "missing": ", ".join(f"“{column.labels[0]}”" for column in missing),
                "header": ", ".join(f"“{cell}”" for cell in header[:10]) or "—",
            }
        )
    rows = []
    for number, record in enumerate(body, start=2):
        if not any(cell.strip() for cell in record):
            continue
        cells = {
            key: record[index].strip() if index < len(record) else ""
            for key, index in positions.items()
        }
        cells.update({column.key: "" for column in columns if column.key not in cells})
        rows.append(Row(number=number, cells=cells))
        if len(rows) > max_rows:
            raise SpreadsheetError(
                ngettext(
                    "The file has more than %(count)s row. Split it into smaller files.",
                    "The file has more than %(count)s rows. Split it into smaller files.",
                    max_rows,
                )
                % {"count": max_rows}
            )
    if not rows:
        raise SpreadsheetError(_("The file has a header row but no rows below it."))
    return rows


def _decode(data):
    not_csv = SpreadsheetError(
        _(
            "This is not a CSV file. In your spreadsheet app, choose File, then Download "
            "or Save as, then “CSV” (“CSV UTF-8” in Excel), and upload that file."
        )
    )
    # A zip (.xlsx, .ods), a PDF, a picture: binary files hold NUL bytes or these starts.
    if b"\x00" in data or data[:4] in (b"PK\x03\x04", b"%PDF") or data[:2] == b"\xd0\xcf":
        raise not_csv
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SpreadsheetError(
            _(
                "This file is not in UTF-8, the encoding we read. In Excel, save it as "
                "“CSV UTF-8”; Google Sheets and LibreOffice write UTF-8 already."
            )
        ) from error
    # Control characters other than line breaks and tabs: not text a spreadsheet wrote.
    if re.search(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]", text):
        raise not_csv
    return text


def _delimiter(header_line):
    """The delimiter the header row uses: the one of , ; and tab it holds most of."""
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","
