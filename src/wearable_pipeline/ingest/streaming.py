"""Feeding COPY from a writer thread, so encoding the next block overlaps sending this one.

With plain synchronous writes the client encodes while the server sits idle, then waits
while the server parses: the two never work at once. A small bounded queue between the
encoder (this thread) and the socket writer (a helper thread; psycopg releases the GIL while
it waits on the socket) lets them run side by side on two cores. The queue holds at most
QUEUE_BLOCKS chunks, so memory stays bounded.

The writer needs the GIL back each time the socket drains, and the encoder holds it for the
length of each C call on a block: hence small blocks (source.BLOCK_SIZE, 128 KiB). With 1 MiB
blocks the server waited for data for ~30% of a load.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable

from psycopg import Copy

QUEUE_BLOCKS = 3


def stream_into(copy: Copy, chunks: Iterable[bytes], after_chunk: Callable[[], None]) -> None:
    """Write every chunk to `copy`; re-raise in this thread whatever the writer hit."""
    pending: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUE_BLOCKS)
    failure: list[BaseException] = []

    def write_all() -> None:
        try:
            while (chunk := pending.get()) is not None:
                # psycopg cuts big writes into 128 KiB pieces; slicing a memoryview does not
                # copy, slicing bytes would (in this thread's malloc arena, which then grows).
                copy.write(memoryview(chunk))
        except BaseException as exc:
            failure.append(exc)
            while pending.get() is not None:  # keep the producer from blocking forever
                pass

    writer = threading.Thread(target=write_all, name="copy-writer", daemon=True)
    writer.start()
    try:
        for chunk in chunks:
            if failure:
                break
            pending.put(chunk)
            after_chunk()
    finally:
        pending.put(None)
        writer.join()
    if failure:
        raise failure[0]
