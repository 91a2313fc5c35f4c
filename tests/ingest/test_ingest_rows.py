"""The COPY encoder without a database: the fast and the row-by-row paths agree, and records
that span blocks (quoted line breaks) come out whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from wearable_pipeline.ingest.paths import folder_user_hint, user_id_hint
from wearable_pipeline.ingest.rows import CopyEncoder, RejectedRow
from wearable_pipeline.ingest.source import Block, CsvSource

from .helpers import ACTIVITY_HEADER, activity_row, write


def _encode(path: Path, block_size: int, fields: int) -> tuple[bytes, list[RejectedRow]]:
    rejects: list[RejectedRow] = []
    encoder = CopyEncoder(field_count=fields, constants=(9, "f", None), on_reject=rejects.append)
    with CsvSource(path, block_size=block_size) as source:
        blocks = source.blocks()
        first = next(blocks)
        header_end = first.data.index(b"\n") + 1
        rest = Block(first_line=2, data=first.data[header_end:])
        out = b"".join(encoder.encode(iter([rest, *blocks])))
    return out, rejects


def _copy_fields(line: str) -> list[str | None]:
    """One line of COPY text format with `,` as the delimiter, as the server reads it."""
    fields: list[str | None] = []
    value: list[str] = []
    raw = ""
    escapes = {"n": "\n", "r": "\r", "t": "\t"}
    index = 0
    while index < len(line):
        char = line[index]
        if char == "\\":
            value.append(escapes.get(line[index + 1], line[index + 1]))
            raw += line[index : index + 2]
            index += 2
            continue
        if char == ",":
            fields.append(None if raw == "\\N" else "".join(value))
            value, raw = [], ""
        else:
            value.append(char)
            raw += char
        index += 1
    fields.append(None if raw == "\\N" else "".join(value))
    return fields


def _records(out: bytes) -> list[list[str | None]]:
    """The rows a COPY of `out` stores: [row number, *constants, *fields] each."""
    text = out.decode()
    # One COPY, one kind of line end, and no CR but in a CR LF.
    crlf = text.count("\r\n")
    assert text.count("\r") == crlf and crlf in (0, text.count("\n"))
    lines = text.replace("\r\n", "\n").split("\n")  # not splitlines: \x0b, \x1c… are data
    assert lines.pop() == ""
    return [_copy_fields(line) for line in lines]


@pytest.mark.parametrize("block_size", [7, 64, 1 << 20])
def test_quoted_records_spanning_blocks_come_out_whole(tmp_path: Path, block_size: int) -> None:
    content = (
        "a,b,c\r\n"
        "1,2,3\r\n"
        '4,"multi\r\nline, with comma",6\r\n'
        "7,8,9\r\n"
        '"x""y",\\back,tab\there\r\n'
        "\r\n"
        "short,row\r\n"
        "10,11,12"
    )
    path = write(tmp_path, "q.csv", content)
    out, rejects = _encode(path, block_size, 3)
    assert _records(out) == [
        ["2", "9", "f", None, "1", "2", "3"],
        ["3", "9", "f", None, "4", "multi\r\nline, with comma", "6"],
        ["5", "9", "f", None, "7", "8", "9"],
        ["6", "9", "f", None, 'x"y', "\\back", "tab\there"],
        ["9", "9", "f", None, "10", "11", "12"],
    ]
    assert [(r.line_number, r.raw_line) for r in rejects] == [(8, "short,row")]


def test_fast_path_output_equals_the_row_by_row_path(tmp_path: Path) -> None:
    rows = [activity_row(steps=n) for n in range(500)]
    plain = write(tmp_path, "plain.csv", ACTIVITY_HEADER + "\r\n" + "\r\n".join(rows) + "\r\n")
    # A quote in the last row forces the whole (single) block through csv.reader.
    quoted = write(
        tmp_path,
        "quoted.csv",
        ACTIVITY_HEADER + "\r\n" + "\r\n".join(rows) + "\r\n" + rows[0].replace("8.5", '"8.5"'),
    )
    fast, _ = _encode(plain, 1 << 20, 15)
    slow, _ = _encode(quoted, 1 << 20, 15)
    assert slow.startswith(fast)
    assert len(_records(slow)) == 501


@pytest.mark.parametrize("block_size", [12, 40, 1 << 20])
@pytest.mark.parametrize("first_end", ["\r\n", "\n"])
def test_blocks_with_other_line_ends_take_the_copy_s_one(
    tmp_path: Path, block_size: int, first_end: str
) -> None:
    """COPY fixes its line end on the first line: later blocks, fast or not, must follow it."""
    other = "\n" if first_end == "\r\n" else "\r\n"
    content = (
        f"a,b{first_end}1,2{first_end}3,4{first_end}"
        f"5,6{other}7,8{other}"
        f'"9",10{other}11,12{first_end}13,14'
    )
    path = write(tmp_path, "mixed.csv", content)
    out, rejects = _encode(path, block_size, 2)
    assert not rejects
    assert [[r[0], *r[4:]] for r in _records(out)] == [
        [str(line), str(2 * line - 3), str(2 * line - 2)] for line in range(2, 9)
    ]
    assert out.endswith(first_end.encode()) and out.count(b"\n") == 7


@pytest.mark.parametrize("quoted", [False, True])
def test_values_that_copy_treats_specially_arrive_as_written(tmp_path: Path, quoted: bool) -> None:
    """Backslashes, `\\N`, `\\.`, tabs, commas in quotes, non-ASCII, characters str.splitlines
    would split at: all plain data, on the fast path and the row-by-row one."""
    lines = ["\\N,\\.", "tab\there,é ü ✓", "\\\\,x\\", ",", "\x0b\x0c,\x1c\x1d\x1e\x85"]
    if quoted:  # a quote sends the block row by row
        lines.append('"a,b",\\t')
    path = write(tmp_path, "special.csv", "a,b\n" + "\n".join(lines) + "\n")
    out, rejects = _encode(path, 1 << 20, 2)
    assert not rejects
    expected = [
        ["\\N", "\\."],
        ["tab\there", "é ü ✓"],
        ["\\\\", "x\\"],
        ["", ""],
        ["\x0b\x0c", "\x1c\x1d\x1e\x85"],
        ["a,b", "\\t"],
    ]
    assert [r[4:] for r in _records(out)] == expected[: len(lines)]


def test_constants_are_escaped_for_the_comma_delimiter() -> None:
    encoder = CopyEncoder(
        field_count=2, constants=(7, "a,b\\c\td", None), on_reject=lambda row: None
    )
    out = b"".join(encoder.encode(iter([Block(first_line=2, data=b"1,2\n3,4")])))
    assert _records(out) == [
        ["2", "7", "a,b\\c\td", None, "1", "2"],
        ["3", "7", "a,b\\c\td", None, "3", "4"],
    ]


def test_bare_carriage_return_in_a_field_is_rejected_not_split(tmp_path: Path) -> None:
    path = write(tmp_path, "cr.csv", "a,b\n1,x\ry\n2,z\n")
    out, rejects = _encode(path, 1 << 20, 2)
    assert _records(out) == [["3", "9", "f", None, "2", "z"]]
    assert rejects[0].line_number == 2 and rejects[0].reason.startswith("unreadable CSV")


@pytest.mark.parametrize("block_size", [16, 1 << 20])
def test_nul_byte_sends_the_block_row_by_row_and_rejects_only_its_row(
    tmp_path: Path, block_size: int
) -> None:
    path = write(tmp_path, "nul.csv", "a,b\r\n1,2\r\n3,4\x005\r\n6,7\r\n")
    out, rejects = _encode(path, block_size, 2)
    assert b"\x00" not in out
    assert _records(out) == [["2", "9", "f", None, "1", "2"], ["4", "9", "f", None, "6", "7"]]
    assert rejects == [
        RejectedRow(
            line_number=3,
            raw_line="3,4\ufffd5",
            raw_bytes=b"3,4\x005",
            reason="NUL byte at character 4; text columns cannot hold it",
        )
    ]


def test_user_id_hint_rules(tmp_path: Path) -> None:
    drop = tmp_path / "data"
    assert folder_user_hint(drop / "alice" / "oura.csv", drop) == "alice"
    assert folder_user_hint(drop / "alice" / "2024" / "oura.csv", drop) == "alice"
    assert folder_user_hint(drop / "oura.csv", drop) is None
    assert folder_user_hint(tmp_path / "elsewhere" / "oura.csv", drop) is None
    single = {"drop_dir": drop, "has_user_column": False}
    assert user_id_hint(drop / "alice" / "o.csv", user_id=None, **single) == "alice"
    assert user_id_hint(drop / "alice" / "o.csv", user_id="bob", **single) == "bob"
    multi = {"drop_dir": drop, "has_user_column": True}
    assert user_id_hint(drop / "synthetic" / "f.csv", user_id=None, **multi) is None


def test_gzip_is_recognised_by_content_not_name(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "no_suffix.csv"
    path.write_bytes(gzip.compress(b"a,b\n1,2\n"))
    with CsvSource(path) as source:
        assert b"".join(block.data for block in source.blocks()) == b"a,b\n1,2\n"
