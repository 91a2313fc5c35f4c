"""CSV lines → PostgreSQL `COPY … FROM STDIN` text-format bytes, with bad rows set aside.

Two paths, same result:

- the fast path takes a whole block at once when it has no quote character, no NUL byte,
  only `\\n` or `\\r\\n` line ends, valid UTF-8 and the header's field count on every line —
  the shape of every real Fitbit export. It works on the block as one string (escape, `,` →
  tab, split), so the per-row Python work is one `str.count` and one format call;
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
from itertools import repeat

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


def copy_escape(value: str) -> str:
    """A value in COPY text format: backslash, tab, newline and carriage return escaped."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\t" in value:
        value = value.replace("\t", "\\t")
    if "\n" in value:
        value = value.replace("\n", "\\n")
    if "\r" in value:
        value = value.replace("\r", "\\r")
    return value


def copy_value(value: str | int | None) -> str:
    """A constant column value in COPY text format (None → NULL)."""
    return "\\N" if value is None else copy_escape(str(value))


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


_COMMA_TO_TAB = bytes.maketrans(b",", b"\t")
# PostgreSQL text cannot hold U+0000: COPY would fail the whole file on it.
NUL = "\x00"
_REPLACEMENT = "\ufffd"


class CopyEncoder:
    """Encodes the data lines of one file for `COPY <table> (<columns>, _row_number, …)`.

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
        self._suffix = "".join(f"\t{copy_value(value)}" for value in constants) + "\n"
        self._suffix_bytes = self._suffix.encode()

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
            fast = self._fast(block)
            if fast is not None:
                yield fast
            else:
                feed.add(block)

    def _fast(self, block: Block) -> bytes | None:
        """The whole block in one go, or None when it needs the record-by-record path.

        Works on bytes: the bytes that matter (`,` `"` CR LF tab backslash) are ASCII and
        never occur inside a multi-byte UTF-8 character, so no decoding is needed beyond
        checking that the block is valid UTF-8.
        """
        data = block.data
        separators = self.field_count - 1
        if not data or b'"' in data or b"\x00" in data or separators == 0:
            return None  # quoting, or a NUL byte to reject: go row by row
        if not data.isascii():
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                return None
        carriage_returns = data.count(b"\r")
        if carriage_returns and data.count(b"\r\n") != carriage_returns:
            return None  # a CR that does not end a line: let csv.reader judge it
        if b"\\" in data:
            data = data.replace(b"\\", b"\\\\")
        if b"\t" in data:
            data = data.replace(b"\t", b"\\t")
        # One pass: commas become COPY's tab delimiter, CRs of CRLF line ends disappear.
        data = data.translate(_COMMA_TO_TAB, b"\r")
        if data.endswith(b"\n"):
            data = data[:-1]
        lines = data.split(b"\n")
        counts = list(map(bytes.count, lines, repeat(b"\t")))
        if counts.count(separators) != len(lines):
            return None  # a blank line or a row with the wrong field count: go row by row
        start = block.first_line
        self.rows += len(lines)
        # str(list(range)) formats all the row numbers in one C call.
        numbers = str(list(range(start, start + len(lines))))[1:-1].encode().split(b", ")
        return (
            self._suffix_bytes.join(map(b"\t".join, zip(lines, numbers, strict=True)))
            + self._suffix_bytes
        )

    def _slow(self, feed: _LineFeed, reader: Iterator[list[str]]) -> bytes:
        """Records until the pending lines run out at a record boundary."""
        out: list[bytes] = []
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
            values = "\t".join(map(copy_escape, fields))
            out.append(f"{values}\t{feed.record_start}{self._suffix}".encode())
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
