"""Reading bodies: limits as sent and once inflated, gzip incrementally, broken gzip."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator

import pytest

from wearable_pipeline.events import body


async def _chunks(data: bytes, size: int = 65536) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def read(data: bytes, *, gzip_: bool, limit: int) -> bytes:
    return asyncio.run(body.read_body(_chunks(data), gzip=gzip_, limit=limit))


def test_plain_and_gzip_bodies_round_trip() -> None:
    payload = b'{"events": [1, 2, 3]}' * 100
    assert read(payload, gzip_=False, limit=10_000) == payload
    assert read(gzip.compress(payload), gzip_=True, limit=10_000) == payload
    two_members = gzip.compress(payload[:50]) + gzip.compress(payload[50:])
    assert read(two_members, gzip_=True, limit=10_000) == payload


def test_limits_apply_as_sent_and_inflated() -> None:
    with pytest.raises(body.BodyTooLargeError):
        read(b"x" * 1001, gzip_=False, limit=1000)
    assert read(b"x" * 1000, gzip_=False, limit=1000) == b"x" * 1000
    with pytest.raises(body.BodyTooLargeError, match="inflated"):
        read(gzip.compress(b"x" * 1001), gzip_=True, limit=1000)


def test_a_gzip_bomb_is_refused_without_inflating_it(monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = gzip.compress(b"\0" * (200 * 1024 * 1024), 9)  # 200 MiB → ~200 KiB
    inflated: list[int] = []
    real = body._GzipInflater.feed

    def spy(self: body._GzipInflater, data: bytes, out: bytearray) -> None:
        try:
            real(self, data, out)
        finally:
            inflated.append(len(out))

    monkeypatch.setattr(body._GzipInflater, "feed", spy)
    with pytest.raises(body.BodyTooLargeError):
        read(bomb, gzip_=True, limit=1024 * 1024)
    assert max(inflated) <= 1024 * 1024 + 1


# Explicit ids: gzip stamps the current time into its header, and pytest-xdist refuses to run
# when its workers collect differently named tests.
@pytest.mark.parametrize(
    "data",
    [b"", b"not gzip at all", gzip.compress(b"{}" * 100, mtime=0)[:-10]],
    ids=["empty", "not gzip", "truncated gzip"],
)
def test_broken_gzip_is_an_encoding_error(data: bytes) -> None:
    with pytest.raises(body.BodyEncodingError):
        read(data, gzip_=True, limit=10_000)


@pytest.mark.parametrize(
    ("header", "is_gzip"), [(None, False), ("identity", False), ("GZIP", True)]
)
def test_parse_encoding(header: str | None, is_gzip: bool) -> None:
    assert body.parse_encoding(header) is is_gzip


def test_unknown_encoding_is_unsupported() -> None:
    with pytest.raises(body.UnsupportedEncodingError, match="br"):
        body.parse_encoding("br")
