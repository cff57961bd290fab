"""The `banso` command run as a real process on a real data folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def banso(args: list[str], data: Path, *, input_text: str | None = None,
          extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``banso ARGS`` with ``data`` as its data folder (and no BANSO_ settings of the caller's but ``extra_env``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANSO_")}
    env.update({"BANSO_DATA_DIR": str(data), "BANSO_MODE": "development", "COLUMNS": "200", **(extra_env or {})})
    return subprocess.run([sys.executable, "-m", "banso", *args], env=env, capture_output=True, text=True,
                          input=input_text, timeout=180, check=False)
