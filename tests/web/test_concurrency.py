"""Fifty clients at once on the embedded database: no request may stall or fail (regression).

A read-only request holding SQLite's write lock still needs a worker thread to finish; with more
waiting requests than worker threads the server stalled for 30 s and answered 500
(benchmarks/information_reads.py, 41+ clients). ``web.middleware.ConcurrencyLimit`` admits fewer
requests than there are threads. This test runs a real uvicorn server on a fresh SQLite file.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import uvicorn

from banso.app.factory import create_app
from banso.app.wiring import build_context
from banso.config import Mode, Settings
from banso.migrations import migrate
from tests.support.mail import free_port


@pytest.mark.slow
def test_fifty_concurrent_readers_on_sqlite(tmp_path: Path) -> None:
    ctx = build_context(Settings(mode=Mode.DEVELOPMENT, data_dir=tmp_path, database_url=None))
    migrate.upgrade(ctx.engine)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ctx, background_jobs=False), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)

        async def load() -> list[int]:
            limits = httpx.Limits(max_connections=60, max_keepalive_connections=60)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20, limits=limits) as client:
                async def one() -> list[int]:
                    codes = []
                    for _ in range(4):
                        response = await client.get("/api/v1/information/public/items")
                        codes.append(response.status_code)
                    return codes

                results = await asyncio.gather(*(one() for _ in range(50)))
            return [code for codes in results for code in codes]

        # Its own thread and loop: a session-wide Playwright fixture on the same xdist worker keeps
        # an event loop running in the main thread, where asyncio.run() refuses to start.
        with ThreadPoolExecutor(max_workers=1) as pool:
            codes = pool.submit(asyncio.run, load()).result()  # a stalled server raises httpx.ReadTimeout
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        ctx.engine.dispose()
    assert codes.count(200) == 200, {c: codes.count(c) for c in set(codes)}
