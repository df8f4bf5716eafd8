"""mutualaid/spreadsheet.py: CSV files as spreadsheet apps write them."""

import io

import pytest

from mutualaid.spreadsheet import Column, SpreadsheetError, read_csv

COLUMNS = [Column("name", ["name"]), Column("email", ["email"], required=False)]


def read(data, **kwargs):
    return [(row.number, row.cells) for row in read_csv(io.BytesIO(data), COLUMNS, **kwargs)]


def test_tabs_quotes_line_breaks_in_cells_and_blank_rows():
    data = b'Email\tName\r\n"a@x.org"\t"Ana\nMaria"\r\n\t\r\nb@x.org\tBo\r\n'
    assert read(data) == [
        (2, {"email": "a@x.org", "name": "Ana\nMaria"}),
        (4, {"email": "b@x.org", "name": "Bo"}),
    ]


def test_a_short_row_reads_as_empty_cells_and_unknown_columns_are_ignored():
    assert read(b"name;notes;email\nAna\n") == [(2, {"name": "Ana", "email": ""})]


def test_an_optional_column_may_be_missing():
    assert read(b"\xef\xbb\xbfNAME\nAna\n") == [(2, {"name": "Ana", "email": ""})]


def test_the_caps_are_the_callers():
    with pytest.raises(SpreadsheetError, match="too big"):
        read(b"name\n" + b"Ana\n" * 10, max_bytes=20)
    with pytest.raises(SpreadsheetError, match="more than 2 rows"):
        read(b"name\nA\nB\nC\n", max_rows=2)
    assert len(read(b"name\nA\nB\n", max_rows=2)) == 2


def test_a_cell_past_the_csv_field_limit_is_a_clear_message():
    with pytest.raises(SpreadsheetError, match="not a CSV file we can read"):
        read(b"name\n" + b"x" * 200_000 + b"\n", max_bytes=300_000)
