"""Reading a request body under a size limit, inflating gzip incrementally.

A gzip body is inflated chunk by chunk with `max_length`, so a small compressed body that
would expand to gigabytes (a "zip bomb") is refused as soon as its output passes the limit,
having inflated at most `limit + 1` bytes. No web framework in here: the API passes the
request's async stream of chunks.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator


class BodyTooLargeError(ValueError):
    """The body, as sent or once inflated, is over the limit (HTTP 413)."""


class BodyEncodingError(ValueError):
    """The body claims gzip but is not a complete gzip stream (HTTP 400)."""


class UnsupportedEncodingError(ValueError):
    """A Content-Encoding other than gzip or identity (HTTP 415)."""


def parse_encoding(header: str | None) -> bool:
    """True for gzip, False for none/identity; UnsupportedEncodingError for anything else."""
    value = (header or "").strip().lower()
    if value in ("", "identity"):
        return False
    if value in ("gzip", "x-gzip"):
        return True
    raise UnsupportedEncodingError(
        f"Content-Encoding {header!r} is not supported; send gzip or an uncompressed body"
    )


async def read_body(chunks: AsyncIterator[bytes], *, gzip: bool, limit: int) -> bytes:
    """The whole body (inflated when `gzip`), at most `limit` bytes both as sent and inflated.

    Raises BodyTooLargeError past the limit and BodyEncodingError for a broken gzip stream.
    """
    raw_size = 0
    out = bytearray()
    inflater = _GzipInflater(limit) if gzip else None
    async for chunk in chunks:
        raw_size += len(chunk)
        if raw_size > limit:
            raise BodyTooLargeError(f"the body is over the limit of {limit} bytes")
        if inflater is None:
            out += chunk
        else:
            inflater.feed(chunk, out)
    if inflater is not None:
        inflater.finish(out)
    return bytes(out)


class _GzipInflater:
    """Inflates one or more concatenated gzip members into a bounded buffer."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        self.seen_input = False

    def feed(self, data: bytes, out: bytearray) -> None:
        while data:
            self.seen_input = True
            try:
                piece = self.inflater.decompress(data, self.limit + 1 - len(out))
            except zlib.error as exc:
                raise BodyEncodingError(f"the body is not valid gzip: {exc}") from exc
            out += piece
            if len(out) > self.limit:
                raise BodyTooLargeError(
                    f"the inflated body is over the limit of {self.limit} bytes"
                )
            if self.inflater.unconsumed_tail:
                data = self.inflater.unconsumed_tail
            elif self.inflater.eof and self.inflater.unused_data:
                data = self.inflater.unused_data  # the next gzip member
                self.inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            else:
                data = b""

    def finish(self, out: bytearray) -> None:
        if not self.seen_input or not self.inflater.eof:
            raise BodyEncodingError("the gzip body is empty or truncated")
