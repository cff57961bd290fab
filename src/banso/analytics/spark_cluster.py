"""A real standalone Spark cluster on 127.0.0.1, started from the scripts PySpark ships (tests, benchmarks).

One master and N workers, each its own JVM (``$SPARK_HOME/bin/spark-class
org.apache.spark.deploy.master.Master`` / ``...deploy.worker.Worker``), with ``SPARK_HOME`` the
installed ``pyspark`` package. Every process is started in a new process group and the whole group is
killed on :meth:`LoopbackCluster.stop` (also at interpreter exit), so no JVM outlives its owner.

Used by ``tests/analytics/test_spark_cluster.py`` and ``benchmarks/spark_cluster.py``; a real cluster is
started by its operators (docs/analytics.md "Running on a Spark cluster (s3a)").
"""

from __future__ import annotations

import atexit
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_MASTER = "org.apache.spark.deploy.master.Master"
_WORKER = "org.apache.spark.deploy.worker.Worker"


def spark_home() -> Path:
    """Return the installed PySpark package folder (it holds ``bin/spark-class`` and the jars)."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LoopbackCluster:
    """A standalone master and ``workers`` workers on 127.0.0.1 (``cores`` cores, ``memory`` each).

    ``env``, when given, is the processes' whole environment (say, without ``PYTHONPATH``, so executors
    import banso only from what the application ships); else they inherit this process's.

    >>> # with LoopbackCluster(workers=2) as c: SparkSession.builder.master(c.url) ...
    """

    def __init__(self, workers: int = 2, *, cores: int = 1, memory: str = "1g", log_dir: Path | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.workers = workers
        self.cores = cores
        self.memory = memory
        self.port = _free_port()
        self.url = f"spark://127.0.0.1:{self.port}"
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="banso-spark-cluster-"))
        self._env = env
        self._procs: list[subprocess.Popen[bytes]] = []

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        home = spark_home()
        base = dict(os.environ) if self._env is None else self._env  # env given: the processes' whole environment
        env = {**base, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_NO_DAEMONIZE": "1"}
        log = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 (the child holds it)
        try:
            proc = subprocess.Popen([str(home / "bin" / "spark-class"), *args], env=env, stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)  # own process group: killed as one
        finally:
            log.close()
        self._procs.append(proc)
        return proc

    def _wait_for(self, name: str, pattern: str, timeout: float) -> None:
        log = self.log_dir / f"{name}.log"
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace") if log.exists() else ""
            if rx.search(text):
                return
            if any(p.poll() is not None for p in self._procs):
                raise RuntimeError(f"a Spark cluster process exited; see {self.log_dir}:\n{text[-2000:]}")
            time.sleep(0.2)
        raise RuntimeError(f"Spark {name} did not start within {timeout:.0f} s; see {log}")

    def start(self, timeout: float = 90.0) -> Self:
        """Start the master and the workers; return when every worker has registered."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        atexit.register(self.stop)
        try:
            self._spawn("master", _MASTER, "--host", "127.0.0.1", "--port", str(self.port), "--webui-port", "0")
            self._wait_for("master", r"I have been elected leader|Starting Spark master", timeout)
            for i in range(self.workers):
                self._spawn(f"worker{i}", _WORKER, self.url, "--host", "127.0.0.1", "--cores", str(self.cores),
                            "--memory", self.memory, "--webui-port", "0",
                            "--work-dir", str(self.log_dir / f"work{i}"))
            for i in range(self.workers):
                self._wait_for(f"worker{i}", r"Successfully registered with master", timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Kill every process group of the cluster (TERM, then KILL after 5 s)."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            alive = [p for p in self._procs if p.poll() is None]
            for p in alive:
                try:
                    os.killpg(p.pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 5
            for p in alive:
                try:
                    p.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
        self._procs = [p for p in self._procs if p.poll() is None]

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def package_zip(dest: Path) -> Path:
    """Write the ``banso`` package this process imports (sources and data files, no caches) to a zip in ``dest``."""
    import banso

    root = Path(banso.__file__).resolve().parent
    out = dest / "banso.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(root.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith((".pyc", ".tmp")):
                zf.write(p, p.relative_to(root.parent).as_posix())
    return out


def ship_banso(spark: SparkSession, dest: Path) -> Path:
    """Ship this process's ``banso`` to the executors (``addPyFile`` of :func:`package_zip`); return the zip.

    Executors put the zip first on their ``sys.path``, so they run the driver's code whatever else is
    installed on the worker machines (which still need banso's dependencies: docs/analytics.md).
    """
    z = package_zip(dest)
    spark.sparkContext.addPyFile(str(z))
    return z
