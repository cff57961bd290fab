#!/usr/bin/env bash
# README command one: set up (idempotent) and run the demo.
#   bash scripts/demo.sh                # serves http://127.0.0.1:8000, data under ./banso-data
#   bash scripts/demo.sh --port 8080    # any `banso demo` option is passed through
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/bootstrap.sh
exec .venv/bin/banso demo "$@"
