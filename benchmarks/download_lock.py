"""An unrelated read's latency while N parallel heavy downloads run, as a ratio to the same reads alone (O4).

A stamped copy of a PDF costs a second or more of CPU. Before issue 17's "stamp" change the stamping ran
inside the request's transaction: on SQLite every other request waited for the write lock it held. The
script seeds the demo (``information_reads.build_fixture``), adds a council-shared item with a 200-page
PDF, serves the real app in a subprocess (one uvicorn worker, as ``banso serve``) and measures, one after
the other for ``--seconds`` each:

* **alone**: one client reads the demo's scenario item (``GET /api/v1/information/items/{id}``, an audited
  read: it appends to the log, so it needs the write lock) back to back;
* **with downloads**: the same reader while ``--downloads`` clients download the big PDF back to back
  (each copy stamped for its recipient, recorded and audited).

It prints the reader's p50, p95 and max for both, their ratio, the downloads done and every non-200
answer. Run it on the code to compare (``PYTHONPATH=<src> python benchmarks/download_lock.py``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from information_reads import MEMBERS, build_fixture, server_process, settings_for

API = "/api/v1/information"


def add_big_pdf(data_dir: Path, pages: int) -> tuple[int, int, int]:
    """Provide a council-shared item with a ``pages``-page PDF in the scenario item's council; return ids and size."""
    from sqlalchemy import select

    from banso.accounts import repository as accounts_repo
    from banso.accounts import service as accounts
    from banso.app.wiring import build_context
    from banso.authz.principal import AuthMethod
    from banso.demo.information import SCENARIO
    from banso.information import service
    from banso.information.deps import information_deps
    from banso.information.models import Item, ItemFile
    from banso.leak.pdf import make_sample_pdf

    pdf = make_sample_pdf("大きな報告", [f"第{n}節 水中航法の誤差は 0.{n}%。" * 20 for n in range(pages * 3)],
                          paragraphs_per_page=3)
    ctx = build_context(settings_for(data_dir, None))
    with ctx.sessions() as db:
        scenario = db.scalar(select(Item).where(Item.title == SCENARIO))
        user = accounts_repo.user_by_email(db, MEMBERS[0])
        assert scenario is not None and user is not None
        principal = accounts.principal_for(user, method=AuthMethod.TOKEN, mfa=True)
        item = service.create_item(db, information_deps(ctx), council_id=scenario.council_id, actor=principal,
                                   now=ctx.clock.now(), title="大きな報告書", summary="ベンチマーク用", body="本文",
                                   matter="useful_information", category="sampling_data", provenance="participant",
                                   files=[service.Upload("big.pdf", "application/pdf", pdf)])
        db.commit()
        file_id = db.scalar(select(ItemFile.id).where(ItemFile.item_id == item.id))
        assert file_id is not None
        ids = (item.id, int(file_id), len(pdf))
    ctx.engine.dispose()
    return ids


def loop(base: str, path: str, token: str, until: float, latencies: list[float], statuses: Counter[str]) -> None:
    """GET ``path`` back to back until ``until``; note each 200's latency and every status."""
    with httpx.Client(base_url=base, timeout=120, headers={"Authorization": f"Bearer {token}"}) as client:
        while time.monotonic() < until:
            start = time.perf_counter()
            try:
                status = client.get(path).status_code
            except httpx.HTTPError as exc:
                statuses[type(exc).__name__] += 1
                continue
            statuses[str(status)] += 1
            if status == 200:
                latencies.append(time.perf_counter() - start)


def phase(base: str, fx: Any, big: tuple[int, int, int], downloads: int, seconds: float) -> dict[str, Any]:
    until = time.monotonic() + seconds
    read_lat: list[float] = []
    read_status: Counter[str] = Counter()
    dl_lat: list[float] = []
    dl_status: Counter[str] = Counter()
    threads = [threading.Thread(target=loop, args=(base, f"{API}/items/{fx.item_id}", fx.tokens[0][0], until,
                                                   read_lat, read_status))]
    for i in range(downloads):
        threads.append(threading.Thread(target=loop, args=(base, f"{API}/items/{big[0]}/files/{big[1]}",
                                                           fx.tokens[1 + i][0], until, dl_lat, dl_status)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"read": read_lat, "read_status": read_status, "dl": dl_lat, "dl_status": dl_status}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--downloads", type=int, default=4, help="parallel download clients")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per phase")
    parser.add_argument("--pages", type=int, default=200, help="pages of the big PDF")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="banso-dl-lock-") as tmp:
        workdir = Path(tmp)
        fx = build_fixture(workdir / "data", None, clients=args.downloads + 1)
        big = add_big_pdf(workdir / "data", args.pages)
        with server_process(fx, workdir / "server.log") as (base, _proc):
            with httpx.Client(base_url=base, timeout=120,
                              headers={"Authorization": f"Bearer {fx.tokens[1][0]}"}) as one:
                start = time.perf_counter()
                assert one.get(f"{API}/items/{big[0]}/files/{big[1]}").status_code == 200
                single = time.perf_counter() - start
            alone = phase(base, fx, big, 0, args.seconds)
            busy = phase(base, fx, big, args.downloads, args.seconds)
    import banso

    print(f"code: {Path(banso.__file__).parent}")
    print(f"big PDF: {args.pages} pages, {big[2] / 1024:.0f} KiB; one download alone {single * 1000:.0f} ms")
    print(f"{'phase':<16}{'reads':>7}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}  statuses / downloads")
    for name, run in (("alone", alone), (f"{args.downloads} downloads", busy)):
        lat = run["read"]
        extra = (f"reads {dict(run['read_status'])}; downloads {len(run['dl'])} ok, {dict(run['dl_status'])}"
                 if name != "alone" else f"reads {dict(run['read_status'])}")
        print(f"{name:<16}{len(lat):>7}{pct(lat, .5) * 1000:>10.0f}{pct(lat, .95) * 1000:>10.0f}"
              f"{(max(lat) if lat else float('nan')) * 1000:>10.0f}  {extra}")
    a, b = alone["read"], busy["read"]
    if a and b:
        print(f"ratio with/without downloads: p50 {pct(b, .5) / pct(a, .5):.1f}x, p95 {pct(b, .95) / pct(a, .95):.1f}x, "
              f"mean {statistics.mean(b) / statistics.mean(a):.1f}x")


if __name__ == "__main__":
    main()
