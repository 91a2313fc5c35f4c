"""Reading a CSV file as bytes: fingerprint, header, and line-aligned text blocks.

Files are read in fixed-size blocks cut at the last newline, so memory stays bounded whatever
the file size, and every block holds whole physical lines (a `\\n` byte never occurs inside a
multi-byte UTF-8 character, so cutting there is safe before decoding). Gzip is recognised by
its magic bytes, not by the `.gz` suffix.

The bytes are hashed as they are read, so a load can check that the rows it copied came from
the content it fingerprinted beforehand (and locked, and recorded): a file that changes in
between is caught instead of being recorded under a hash its rows do not match.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# Lines are handed on in blocks of about 128 KiB. Smaller blocks keep each C call of the row
# encoder short, so the COPY writer thread gets the GIL back soon after the socket drains; with
# 1 MiB blocks the server sat idle for ~30% of a load waiting for it (bench/csv_ingest.py:
# 1.86 s → 1.50 s for 1M rows on 2 cores).
BLOCK_SIZE = 1 << 17
# Hashing a whole file (the fingerprint before a load) reads in bigger pieces.
HASH_READ_SIZE = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_BOM = "\ufeff".encode()
# How far we look for a header: formats may put it below metadata lines (Samsung: line 2).
MAX_HEADER_LINE = 5


class SourceError(Exception):
    """A file-level problem (unreadable, empty, undecodable header): the file is rejected."""


@dataclass(frozen=True)
class Fingerprint:
    size_bytes: int
    sha256: str


def fingerprint(path: Path) -> Fingerprint:
    """Size and sha256 of the file's bytes as stored (compressed bytes for `.csv.gz`)."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_READ_SIZE):
            digest.update(chunk)
            size += len(chunk)
    return Fingerprint(size_bytes=size, sha256=digest.hexdigest())


class _HashingReader:
    """A binary file's bytes as they are read, counted and hashed on the way."""

    mode = "rb"  # what GzipFile asks a file object for

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self._digest.update(data)
        self.size += len(data)
        return data

    def fingerprint(self) -> Fingerprint:
        """Read whatever is left, then the size and sha256 of everything read."""
        while self.read(HASH_READ_SIZE):
            pass
        return Fingerprint(size_bytes=self.size, sha256=self._digest.hexdigest())


@dataclass(frozen=True)
class Block:
    """Whole physical lines of a file, as bytes (decoding is the row encoder's business).

    first_line: 1-based line number of the block's first line in the file.
    data:       the lines, each ending in `\\n` except possibly the file's last one.
    """

    first_line: int
    data: bytes


class CsvSource:
    """An open CSV file (plain or gzip) read as header lines, then line-aligned blocks.

    Use as a context manager. `position()` is the byte offset in the file on disk, for
    progress bars (compressed bytes for gzip, so it ends at the file size either way).
    `fingerprint()` after the last block: the size and sha256 of the bytes the blocks came from.
    """

    def __init__(self, path: Path, *, block_size: int = BLOCK_SIZE) -> None:
        self.path = Path(path)
        self._block_size = block_size
        self._raw: BinaryIO = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        gzipped = self._raw.read(2) == _GZIP_MAGIC
        self._raw.seek(0)
        self._hashed = _HashingReader(self._raw)
        self._stream: BinaryIO = self._hashed  # type: ignore[assignment]
        if gzipped:
            self._stream = gzip.GzipFile(fileobj=self._hashed, mode="rb")  # type: ignore[assignment,arg-type]
        self._pending = b""
        self._eof = False
        self._next_line = 1
        self._first = True

    def __enter__(self) -> CsvSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._stream is not self._hashed:
            self._stream.close()
        self._raw.close()

    def position(self) -> int:
        return self._hashed.size

    def fingerprint(self) -> Fingerprint:
        """Size and sha256 of the whole file as this source read it (the rest is read now)."""
        return self._hashed.fingerprint()

    def _read_raw_block(self) -> bytes:
        """The next run of whole lines as bytes (the last one may lack its newline)."""
        while not self._eof:
            try:
                chunk = self._stream.read(self._block_size)
            except (OSError, EOFError) as exc:  # truncated or corrupt gzip
                raise SourceError(f"cannot read the file: {exc}") from exc
            if not chunk:
                self._eof = True
                break
            data = self._pending + chunk
            cut = data.rfind(b"\n")
            if cut < 0:
                self._pending = data  # one line longer than a block: keep reading
                continue
            self._pending = data[cut + 1 :]
            return data[: cut + 1]
        data, self._pending = self._pending, b""
        return data

    def blocks(self) -> Iterator[Block]:
        """Every remaining line, in blocks; the first block has a leading BOM removed."""
        while data := self._read_raw_block():
            if self._first:
                self._first = False
                data = data.removeprefix(_BOM)
            block = Block(first_line=self._next_line, data=data)
            self._next_line += data.count(b"\n")
            yield block


def split_lines(text: str) -> list[str]:
    """Physical lines with their `\\n` kept (unlike str.splitlines, which also splits on
    form feeds, `\\x1c` and Unicode separators that are ordinary data in a CSV field)."""
    lines = text.split("\n")
    result = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        result.append(lines[-1])
    return result


def split_byte_lines(data: bytes) -> list[bytes]:
    """`split_lines` for bytes."""
    lines = data.split(b"\n")
    result = [line + b"\n" for line in lines[:-1]]
    if lines[-1]:
        result.append(lines[-1])
    return result


def parse_header_line(line: str) -> list[str]:
    """The fields of one header line (quoted headers allowed), without the line ending."""
    fields = next(csv.reader([line.rstrip("\r\n")]), [])
    return fields


def read_first_lines(blocks: Iterator[Block]) -> list[bytes]:
    """At least the first MAX_HEADER_LINE + 1 lines of the file (whole blocks are taken).

    The caller picks the header among them and processes the lines after it before the rest
    of `blocks`. Raises SourceError for an empty (or blank-only) file.
    """
    lines: list[bytes] = []
    for block in blocks:
        lines.extend(split_byte_lines(block.data))
        if len(lines) > MAX_HEADER_LINE:
            break
    if not any(line.strip() for line in lines):
        raise SourceError("empty file: no header line")
    return lines


def header_candidates(lines: list[bytes]) -> dict[int, list[str]]:
    """Line number → fields, for each of the first lines that is readable UTF-8 text."""
    candidates = {}
    for number, line in enumerate(lines[:MAX_HEADER_LINE], start=1):
        try:
            candidates[number] = parse_header_line(line.decode("utf-8"))
        except UnicodeDecodeError:
            continue  # a header must be text; this line may be data with a bad byte
    return candidates
