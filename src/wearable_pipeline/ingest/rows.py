"""CSV lines → PostgreSQL `COPY … FROM STDIN (DELIMITER ',')` text-format bytes, with bad rows
set aside.

Each output line is `<row number>,<lineage constants>,<the record's fields>` followed by a line
end: the lineage columns come first, so a clean CSV line can be sent as it is, commas and all,
behind a prefix. COPY's text format with `,` as the delimiter treats only the backslash, the
comma, CR and LF as special, and accepts `\r\n` line ends as long as one COPY uses one kind.

Two paths, same result:

- the fast path takes a whole block at once when it has no quote character, no NUL byte,
  valid UTF-8, and every line has the header's field count and the same line end (LF, or CR LF
  with no other CR) — the shape of every real Fitbit export. One `translate` that keeps only
  the separators, compared with the expected pattern, checks all of that in C; then the block
  is cut into lines and interleaved with the row-number prefixes in one `join`. The per-row
  Python work is nil: no per-line count, escape or format call;
- the slow path feeds the lines to `csv.reader` (quoted fields with commas, quotes and line
  breaks, blank lines, rows with the wrong field count, bytes that are not UTF-8, NUL bytes
  that PostgreSQL text cannot hold), one record at a time, keeping the physical lines of each
  record so a rejected row is stored as it was.

A record that spans blocks simply keeps the slow path reading into the next block. Every
value is sent as text (`''` for an empty field, never NULL), so nothing is lost or reinterpreted.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from wearable_pipeline.ingest.source import Block, split_lines


@dataclass(frozen=True)
class RejectedRow:
    """A record that could not be loaded, kept as it was in the file.

    line_number: 1-based physical line where the record starts.
    raw_line:    the record's text without its final line end (bytes that are not UTF-8, and
                 NUL bytes, shown as U+FFFD).
    raw_bytes:   the exact bytes, when raw_line is not exact (bytes that are not UTF-8, or a
                 NUL byte); else None.
    reason:      what is wrong and what was expected.
    """

    line_number: int
    raw_line: str
    raw_bytes: bytes | None
    reason: str


def _escape_specials(value: str) -> str:
    """Backslash, newline and carriage return escaped: COPY text format with `,` as the
    delimiter, for a value (or a run of values) with no comma in it. A tab is plain data."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\n" in value:
        value = value.replace("\n", "\\n")
    if "\r" in value:
        value = value.replace("\r", "\\r")
    return value


def copy_escape(value: str) -> str:
    """A value in COPY text format with the default tab delimiter (for raw.rejected_rows)."""
    value = _escape_specials(value)
    return value.replace("\t", "\\t") if "\t" in value else value


def copy_field(value: str) -> str:
    """A value for COPY text format with `,` as the delimiter."""
    value = _escape_specials(value)
    if "," in value:
        value = value.replace(",", "\\,")
    return value


def copy_value(value: str | int | None) -> str:
    """A constant column value for COPY text format with `,` as the delimiter (None → NULL)."""
    return "\\N" if value is None else copy_field(str(value))


# The delimiter of the COPY this module encodes for: `copy … from stdin (delimiter ',')`.
COPY_DELIMITER = ","


class _LineFeed:
    """The iterator `csv.reader` pulls physical lines from.

    It remembers the lines handed out for the current record (csv.reader never reads ahead
    past the end of a record) and refills itself from the next block when a quoted field
    runs past the end of the current one.
    """

    def __init__(self, blocks: Iterator[Block]) -> None:
        self.pending: deque[str] = deque()
        self.consumed: list[str] = []
        self.next_line = 0  # number of the next line handed out
        self.record_start = 0
        self._blocks = blocks

    def add(self, block: Block) -> None:
        if not self.pending:
            self.next_line = block.first_line
        # Bytes that are not UTF-8 survive as surrogate escapes, to be found per record.
        self.pending.extend(split_lines(block.data.decode("utf-8", "surrogateescape")))

    def start_record(self) -> None:
        self.consumed.clear()
        self.record_start = self.next_line

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        if not self.pending:
            block = next(self._blocks, None)
            if block is None:
                raise StopIteration
            self.add(block)
        line = self.pending.popleft()
        self.consumed.append(line)
        self.next_line += 1
        return line


def _undecodable_reason(text: str) -> str:
    for index, char in enumerate(text):
        if "\udc80" <= char <= "\udcff":
            return (
                f"bytes that are not UTF-8 (first: 0x{ord(char) - 0xDC00:02X} at character "
                f"{index + 1} of the row); expected UTF-8 text"
            )
    return "bytes that are not UTF-8"


def _nul_reason(text: str) -> str:
    return f"NUL byte at character {text.index(NUL) + 1}; text columns cannot hold it"


# What the fast path's check keeps of a block: the separators, in order.
_NOT_SEPARATORS = bytes(byte for byte in range(256) if byte not in b",\r\n")
# PostgreSQL text cannot hold U+0000: COPY would fail the whole file on it.
NUL = "\x00"
_REPLACEMENT = "\ufffd"
_CRLF = b"\r\n"
_LF = b"\n"


def _line_end_of_first_line(data: bytes) -> bytes:
    end = data.find(b"\n")
    return _CRLF if end > 0 and data[end - 1] == ord("\r") else _LF


class CopyEncoder:
    """Encodes the data lines of one file for
    `COPY <table> (_row_number, <constant columns>, <columns>) FROM STDIN (DELIMITER ',')`.

    field_count: fields per record, from the header.
    constants:   values of the lineage columns after `_row_number`, in COPY column order.
    on_reject:   called with every record that cannot be loaded (the caller stores it).

    After iterating `encode(blocks)`, `rows` and `rejected` hold the counts.
    """

    def __init__(
        self,
        *,
        field_count: int,
        constants: tuple[str | int | None, ...],
        on_reject: Callable[[RejectedRow], None],
    ) -> None:
        self.field_count = field_count
        self.rows = 0
        self.rejected = 0
        self._on_reject = on_reject
        # Everything between a row number and the record's first field. Escaped values hold no
        # raw line feed, so `\n` can separate the row-number prefixes before they are split.
        self._after_number = "".join(f",{copy_value(value)}" for value in constants) + ","
        self._after_number_lf = self._after_number + "\n"
        separators = b"," * (field_count - 1)
        self._units = {_LF: separators + _LF, _CRLF: separators + _CRLF}
        # One COPY takes one kind of line end: the first data line's, kept to the end.
        self._eol: bytes | None = None

    def encode(self, blocks: Iterator[Block]) -> Iterator[bytes]:
        """COPY data, one chunk per block (or per run of blocks a quoted record spans)."""
        feed = _LineFeed(blocks)
        reader = csv.reader(feed)
        while True:
            if feed.pending:
                yield self._slow(feed, reader)
                continue
            block = next(blocks, None)
            if block is None:
                return
            if self._eol is None and block.data:
                self._eol = _line_end_of_first_line(block.data)
            fast = self._fast(block)
            if fast is not None:
                yield fast
            else:
                feed.add(block)

    def _fast(self, block: Block) -> bytes | None:
        """The whole block in one go, or None when it needs the record-by-record path.

        Works on bytes: the bytes that matter (`,` `"` CR LF backslash) are ASCII and never
        occur inside a multi-byte UTF-8 character, so no decoding is needed beyond checking
        that the block is valid UTF-8.
        """
        data = block.data
        if not data or b'"' in data or b"\x00" in data or self.field_count == 1:
            return None  # quoting, or a NUL byte to reject: go row by row
        if not data.isascii():
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                return None
        if not data.endswith(b"\n"):  # the file's last line, without a line end
            data += _CRLF if b"\r" in data else _LF
        # The separators alone must be exactly `,` × (fields - 1) then the line end, per line:
        # that checks every line's field count and that a CR only ever ends a line.
        separators = data.translate(None, _NOT_SEPARATORS)
        eol = _CRLF if b"\r" in separators else _LF
        unit = self._units[eol]
        count = len(separators) // len(unit)
        if separators != unit * count:
            return None  # a blank line, a wrong field count or a stray CR: go row by row
        if eol != self._eol:  # a file that mixes line ends: this block takes the COPY's
            data = data.translate(None, b"\r") if eol == _CRLF else data.replace(_LF, _CRLF)
        if b"\\" in data:
            data = data.replace(b"\\", b"\\\\")
        # bytes.splitlines splits at CR, LF and CR LF only (str's also at \x0b, \x0c, \x1c…),
        # and only CR LF or LF remain.
        lines = data.splitlines(keepends=True)
        if len(lines) != count:
            return None
        start = block.first_line
        # str(list(range)) formats all the row numbers in one C call.
        numbers = str(list(range(start, start + count)))[1:-1]
        prefixes = (
            (numbers.replace(", ", self._after_number_lf) + self._after_number)
            .encode()
            .split(b"\n")
        )
        chunk: list[bytes] = [b""] * (2 * count)
        chunk[0::2] = prefixes
        chunk[1::2] = lines
        self.rows += count
        return b"".join(chunk)

    def _slow(self, feed: _LineFeed, reader: Iterator[list[str]]) -> bytes:
        """Records until the pending lines run out at a record boundary."""
        out: list[bytes] = []
        eol = self._eol or _LF
        while feed.pending:
            feed.start_record()
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                self._reject(feed, f"unreadable CSV: {exc}")
                continue
            if not fields:
                continue  # a blank line carries no data
            raw = "".join(feed.consumed)
            try:
                raw.encode("utf-8")
            except UnicodeEncodeError:
                self._reject(feed, _undecodable_reason(raw))
                continue
            if NUL in raw:
                self._reject(feed, _nul_reason(raw))
                continue
            if len(fields) != self.field_count:
                self._reject(
                    feed,
                    f"expected {self.field_count} fields as in the header, found {len(fields)}",
                )
                continue
            values = ",".join(fields)
            if values.count(",") == self.field_count - 1:  # no comma inside a field
                values = _escape_specials(values)
            else:
                values = ",".join(map(copy_field, fields))
            out.append(f"{feed.record_start}{self._after_number}{values}".encode() + eol)
            self.rows += 1
        return b"".join(out)

    def _reject(self, feed: _LineFeed, reason: str) -> None:
        raw = "".join(feed.consumed)
        if raw.endswith("\n"):
            raw = raw[:-1]
        if raw.endswith("\r"):
            raw = raw[:-1]
        data = raw.encode("utf-8", "surrogateescape")
        try:
            raw.encode("utf-8")
            exact = NUL not in raw
        except UnicodeEncodeError:
            exact = False
        self.rejected += 1
        self._on_reject(
            RejectedRow(
                line_number=feed.record_start,
                raw_line=data.decode("utf-8", "replace").replace(NUL, _REPLACEMENT),
                raw_bytes=None if exact else data,
                reason=reason.replace(NUL, _REPLACEMENT),
            )
        )
