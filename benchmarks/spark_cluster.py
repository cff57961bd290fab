"""Spark ingest throughput on a loopback standalone cluster: one worker against two (issue 16).

    PYTHONPATH=src .venv/bin/python benchmarks/spark_cluster.py --works 40000 --files 8 [--order 1,2,2,1]

Writes a synthetic snapshot (``--files`` gzip files), then for 1 and 2 workers (1 core, 1 GB each) starts
a real standalone cluster on 127.0.0.1 from the scripts PySpark ships, ships banso to the executors,
warms the Python workers up, and times (a) the read job alone (every snapshot file → its part and
statistics, :func:`banso.analytics.spark_ingest.read_files`) and (b) the whole ingest into a new store
(read job, renames, manifest, compaction of ``works.parquet`` and ``institutions.parquet``). Prints
works/s for each and the ratio two workers / one worker, with the machine's load average (the ratio
is meaningless when the cores are busy with other work).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from banso.analytics import spark_ingest
from banso.analytics.spark_cluster import LoopbackCluster, ship_banso
from banso.analytics.spark_store import HadoopFS, as_uri
from banso.analytics.synth import write_synthetic_snapshot


def task_seconds(event_dir: Path, group: str) -> tuple[float, int]:
    """Return the summed wall time of the tasks of job group ``group`` (Spark's event log) and their number.

    Divided by the job's wall time it says how many tasks ran at once: two with two workers, whatever
    the machine's other load — and how much slower each task ran when they did.
    """
    stages: set[int] = set()
    total_ms, n = 0, 0
    # Spark 4 rolls its event log: a folder eventlog_v2_<app>/ of events_<n>_<app> files (JSON lines).
    for log in sorted(p for p in event_dir.rglob("*") if p.is_file() and p.name.startswith(("events_", "app-"))):
        for line in log.read_text().splitlines():
            ev = json.loads(line)
            if ev.get("Event") == "SparkListenerJobStart" and (ev.get("Properties") or {}).get(
                    "spark.jobGroup.id") == group:
                stages.update(ev.get("Stage IDs", []))
            elif ev.get("Event") == "SparkListenerTaskEnd" and ev.get("Stage ID") in stages:
                total_ms += int(ev["Task Metrics"]["Executor Run Time"])
                n += 1
    return total_ms / 1000.0, n


def run(workers: int, snapshot: Path, work: Path, works: int, tag: str) -> dict[str, float]:
    """Time the read job and the whole ingest on a fresh cluster of ``workers`` workers."""
    from pyspark.sql import SparkSession

    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    os.environ["PYSPARK_PYTHON"] = sys.executable  # what executors run (read when the context starts)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    events = work / f"events-{tag}"
    events.mkdir(exist_ok=True)
    with LoopbackCluster(workers=workers, cores=1, memory="1g", log_dir=work / f"logs-{tag}", env=env) as c:
        spark = (SparkSession.builder.master(c.url).appName(f"banso-bench-{workers}")
                 .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                 .config("spark.executor.memory", "768m").config("spark.pyspark.python", sys.executable)
                 .config("spark.sql.shuffle.partitions", str(2 * workers))
                 .config("spark.eventLog.enabled", "true").config("spark.eventLog.dir", events.as_uri())
                 .config("spark.eventLog.compress", "false")
                 .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
                 .getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        try:
            jsc = spark.sparkContext._jsc
            assert jsc is not None
            while jsc.sc().getExecutorMemoryStatus().size() < workers + 1:
                time.sleep(0.5)
            ship_banso(spark, work)
            # Warm-up: start a Python worker on every executor and import what the read job imports.
            spark.sparkContext.parallelize(range(4 * workers), 4 * workers).map(
                lambda _: __import__("banso.analytics.spark_ingest").__name__).collect()
            fs = HadoopFS(spark, as_uri(snapshot))
            files = [(uri, f, seq) for seq, (uri, f) in enumerate(spark_ingest.discover(fs, as_uri(snapshot)))]
            spark.sparkContext.setJobGroup("read", "the read job alone")
            t0 = time.perf_counter()
            spark_ingest.read_files(spark, files, as_uri(work / f"staging-{tag}"))
            read_s = time.perf_counter() - t0
            spark.sparkContext.setJobGroup("ingest", "the whole ingest")
            t0 = time.perf_counter()
            rep = spark_ingest.ingest(spark, snapshot, work / f"store-{tag}", files_per_job=len(files))
            ingest_s = time.perf_counter() - t0
            assert rep.works_in_store == works, rep
        finally:
            spark.stop()
    task_s, tasks = task_seconds(events, "read")
    return {"read_s": read_s, "ingest_s": ingest_s, "task_s": task_s, "tasks": tasks}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--works", type=int, default=40_000)
    ap.add_argument("--files", type=int, default=8, help="snapshot files (tasks of the read job)")
    ap.add_argument("--work-dir", type=Path, default=None)
    ap.add_argument("--order", default="1,2", help="worker counts to run, in this order (e.g. 1,2,2,1)")
    args = ap.parse_args()
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="banso-spark-bench-"))
    snapshot = work / "snap"
    if not snapshot.exists():
        t0 = time.perf_counter()
        made = write_synthetic_snapshot(snapshot, works=args.works, seed=1,
                                     part_size=-(-args.works // args.files), processes=2)
        print(f"synth: {made.works} works, {made.files} files, {made.gz_bytes / 1e6:.1f} MB gz "
              f"({time.perf_counter() - t0:.1f} s)", flush=True)
    results: dict[int, dict[str, float]] = {}
    for i, workers in enumerate(int(x) for x in args.order.split(",")):
        load = os.getloadavg()[0]
        r = run(workers, snapshot, work, args.works, f"{i}-{workers}")
        for k, v in r.items():  # repeated counts: the sums, so the ratio is of the totals
            results.setdefault(workers, {}).setdefault(k, 0.0)
            results[workers][k] += v
        print(f"{workers} worker(s): read job {r['read_s']:.1f} s ({args.works / r['read_s']:,.0f} works/s), "
              f"whole ingest {r['ingest_s']:.1f} s ({args.works / r['ingest_s']:,.0f} works/s); "
              f"read tasks: {r['tasks']:.0f}, {r['task_s']:.1f} task-s in all, "
              f"{r['task_s'] / r['read_s']:.2f} at once on average; "
              f"1-min load before {load:.2f}, after {os.getloadavg()[0]:.2f}", flush=True)
    print(f"ratio two workers / one worker: read job {results[1]['read_s'] / results[2]['read_s']:.2f}x, "
          f"whole ingest {results[1]['ingest_s'] / results[2]['ingest_s']:.2f}x; cpus {os.cpu_count()}")
    if args.work_dir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
