"""The producer's flush waits for table writes that are being handed to aiokafka (streams/delivery.py)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from streams.delivery import HandoverBuffer


class SlowChannel:
    """A channel whose handover to aiokafka waits (as a changelog topic's first declaration does)."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.handed: list[Any] = []

    async def publish_message(self, fut: Any, wait: bool = False) -> None:
        await self.gate.wait()
        self.handed.append(fut)


async def wait_until(condition: Any, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.001)


async def test_drain_waits_for_the_message_being_handed_over() -> None:
    buffer = HandoverBuffer()
    buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))  # type: ignore[assignment]
    channel = SlowChannel()
    await buffer.start()
    try:
        first, second = (SimpleNamespace(message=SimpleNamespace(channel=channel)) for _ in range(2))
        buffer.put(first)  # type: ignore[arg-type]
        await wait_until(lambda: buffer.handing_over == 1)  # out of the queue, not yet handed
        # Faust's own flush sees an empty queue and returns with the message still in hand
        async with asyncio.timeout(1):
            await buffer.flush()
        assert channel.handed == []
        drained = asyncio.ensure_future(buffer.drain())
        await asyncio.sleep(0.3)  # not synchronization: a window longer than Faust's flush waits (0.1 s)
        assert not drained.done(), "drain returned with a message still being handed over"
        buffer.put(second)  # type: ignore[arg-type]
        await wait_until(lambda: buffer.size == 1)
        assert not drained.done()
        channel.gate.set()
        async with asyncio.timeout(5):
            await drained
        assert channel.handed == [first, second]
        assert buffer.size == 0 and buffer.handing_over == 0
    finally:
        await buffer.stop()
