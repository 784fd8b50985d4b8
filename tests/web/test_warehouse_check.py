"""/health's warehouse ping: one at a time, and an old answer is renewed without making /health wait."""

from __future__ import annotations

import asyncio

from web import health


async def test_the_first_answer_is_awaited_then_renewed_in_the_background(monkeypatch):
    answers = iter([{"status": "ok"}, {"status": "down", "error": "lock held"}])
    release = asyncio.Event()
    calls = 0

    async def ping(worker):
        nonlocal calls
        calls += 1
        if calls == 2:
            await release.wait()  # the warehouse thread is busy with a write
        return next(answers)

    monkeypatch.setattr(health, "_ping", ping)
    check = health.WarehouseCheck()
    assert await check.get(None, max_age=60) == {"status": "ok"}
    assert await check.get(None, max_age=60) == {"status": "ok"} and calls == 1  # fresh: reused
    # stale: the last answer comes back at once while one renewal runs
    assert await asyncio.wait_for(check.get(None, max_age=0), timeout=1) == {"status": "ok"}
    assert await asyncio.wait_for(check.get(None, max_age=0), timeout=1) == {"status": "ok"}
    await asyncio.sleep(0)
    assert calls == 2  # one renewal, not one per request
    release.set()
    for _ in range(100):
        if (await check.get(None, max_age=60))["status"] == "down":
            break
        await asyncio.sleep(0.01)
    assert await check.get(None, max_age=60) == {"status": "down", "error": "lock held"}


async def test_concurrent_first_requests_share_one_ping(monkeypatch):
    calls = 0

    async def ping(worker):
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return {"status": "ok"}

    monkeypatch.setattr(health, "_ping", ping)
    check = health.WarehouseCheck()
    results = await asyncio.gather(*(check.get(None, max_age=60) for _ in range(10)))
    assert results == [{"status": "ok"}] * 10 and calls == 1
