"""Memory and time of stamping and viewing a large image (issue 17: "images rendered within a bounded memory budget").

Each measurement runs in a fresh interpreter importing banso from ``--src`` (so the code before and after a
change can be compared on the same files): it reads the image, records its resident set, runs one operation,
and reports the peak resident set above that baseline (``VmHWM``; not ``ru_maxrss``, which a child inherits
from the parent that forked it), the resident set left afterwards and
the wall time. Pillow allocates pixel memory outside Python's allocator, so ``tracemalloc`` would not see it;
the resident set does.

Operations:

* ``download`` — a recipient's copy: ``banso.sealed.store.stamp_kind`` (the footer strip and metadata, I8);
* ``view`` — one on-screen page of a view-only image: the viewer's decode (``open_reduced`` where it exists,
  else ``open_image``) and ``banso.leak.screen.stamp_view`` (tiles and the pixel mark);
* ``upload`` — upload validation: ``banso.sealed.uploads.sniff``.

A refusal (the image over the pixel limit) is reported with its status instead of failing the run.

Run (from the repository root)::

    .venv/bin/python benchmarks/image_memory.py --src src                     # this tree
    .venv/bin/python benchmarks/image_memory.py --src ../main/src --label before
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, sys, time
path, kind, op = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(path, "rb").read()
from banso.sealed import store, uploads
from banso.leak import image as leak_image, screen
import PIL.Image

def status_mb(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) // 1024
base = status_mb("VmRSS:")
base_peak = status_mb("VmHWM:")
start = time.perf_counter()
status = "ok"
try:
    if op == "download":
        store.stamp_kind(data, kind=kind, footer="山田太郎（東京大学） 2026-12-06 12:00 JST 情報 #1", code=bytes(range(8)))
    elif op == "view":
        opener = getattr(leak_image, "open_reduced", None) or leak_image.open_image
        img = opener(data, kind)
        screen.stamp_view(img, footer="山田太郎（東京大学） 閲覧 2026-12-06 12:00 JST 情報 #1", code=bytes(range(8)))
        img.close()
    elif op == "upload":
        uploads.sniff(data, "x." + ("jpg" if kind == "jpeg" else kind), None, max_bytes=1 << 40)
except Exception as exc:
    status = f"{type(exc).__name__} {getattr(exc, 'status_code', '')}".strip()
seconds = time.perf_counter() - start
peak = status_mb("VmHWM:")
print(json.dumps({"status": status, "seconds": round(seconds, 2), "peak_mb": max(0, peak - max(base, base_peak)),
                  "after_mb": status_mb("VmRSS:") - base}))
"""


def _make(path: Path, kind: str, width: int, height: int) -> None:
    """Write a photo-like test image (gradients and a grid, so it compresses like a real picture)."""
    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([(x * 255 // max(1, width - 1)), (y * 255 // max(1, height - 1)), ((x ^ y) & 0xFF)], axis=-1)
    image = Image.fromarray(rgb.astype(np.uint8), "RGB")
    del rgb, x, y
    image.save(path, format={"png": "PNG", "jpeg": "JPEG"}[kind], **({"quality": 85} if kind == "jpeg" else {}))
    image.close()


def main() -> None:
    """Run every case in a fresh interpreter and print a table (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--src", default="src", help="the banso source tree to import")
    parser.add_argument("--label", default="after")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cases = [("png", 9000, 9000), ("jpeg", 9000, 9000), ("png", 7300, 5475), ("jpeg", 7300, 5475)]
    env = {**os.environ, "PYTHONPATH": str(Path(args.src).resolve())}
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for kind, width, height in cases:
            path = Path(folder) / f"{width}x{height}.{kind}"
            _make(path, kind, width, height)
            for op in ("upload", "download", "view"):
                out = subprocess.run([sys.executable, "-c", CHILD, str(path), kind, op], env=env, check=True,
                                     capture_output=True, text=True).stdout
                row = {"label": args.label, "image": f"{width}×{height} {kind.upper()}",
                       "megapixels": round(width * height / 1e6, 1), "file_mb": round(path.stat().st_size / 2**20, 1),
                       "op": op, **json.loads(out)}
                rows.append(row)
                print(f"{row['label']:7} {row['image']:18} {row['file_mb']:6} MB  {op:8} {row['status']:18} "
                      f"{row['seconds']:6.2f} s  peak +{row['peak_mb']:5} MB  left +{row['after_mb']:5} MB", flush=True)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))


if __name__ == "__main__":
    main()
