#!/usr/bin/env bash
# README command two, and what .ci/run runs: the import contracts, then the whole test suite, twice.
#
#   bash scripts/test.sh                    # everything
#   bash scripts/test.sh tests/accounts -x  # extra arguments go to BOTH pytest passes
#
#   first   .venv/bin/lint-imports: the layer contracts of pyproject.toml [tool.importlinter]
#           (docs/architecture.md); a broken contract stops the run before pytest (exit 1)
#   pass 1  SQLite      .venv/bin/python -m pytest -q "$@"         (all tiers: browser + spark too)
#   pass 2  PostgreSQL  BANSO_TEST_DATABASE_URL=postgresql+psycopg://banso@127.0.0.1:PORT/banso_test \
#                       .venv/bin/python -m pytest -q -n 2 -m "not browser and not spark" "$@"
#                       (each xdist worker gets a database of its own, banso_test_gw0, banso_test_gw1 …:
#                       tests/conftest.py creates them and points the variable at them)
#
# Pass 2 runs against a throwaway PostgreSQL server (temp data dir, loopback only, random free
# port, fsync off) that is removed again on exit, failure or Ctrl-C. Both passes always run.
# Exit status: 0 only when both passes pass. pytest's 5 ("no tests collected") is accepted for
# one pass as long as the other one ran tests and passed; 5 in both is a failure.
#
# Environment:
#   BANSO_TEST_WORKERS=N   run both passes with pytest-xdist `-n N` (default 2, one per core; 0 = no xdist)
#   BANSO_TEST_SKIP_PG=1   skip pass 2 (reported as postgresql=skipped; never do this in CI)
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say()     { printf 'test.sh: %s\n' "$*"; }
die()     { printf 'test.sh: ERROR: %s\n' "$*" >&2; exit 1; }
heading() { printf '\n==================== %s ====================\n' "$*"; }

is_root() { [[ "$(id -u)" == "0" ]]; }

# ---------------------------------------------------------------- 1. Python environment
bash scripts/bootstrap.sh

# ---------------------------------------------------------------- 2. system packages
# Debian's chromium (driven by Playwright through executable_path; `playwright install` is never
# run: browser downloads are blocked), CJK fonts for Japanese pages, a PostgreSQL server for
# pass 2, a Java runtime for PySpark, SoftHSM2 and Node.js (below).
pkgs=()
[[ -x /usr/bin/chromium ]] || pkgs+=(chromium fonts-noto-cjk)
if [[ -x /usr/bin/chromium ]] && command -v dpkg-query >/dev/null 2>&1 \
        && ! dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q 'ok installed'; then
    if is_root; then pkgs+=(fonts-noto-cjk); else say "WARNING: fonts-noto-cjk missing: Japanese text renders as boxes in screenshots"; fi
fi
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || pkgs+=(postgresql)
command -v java >/dev/null 2>&1 || pkgs+=(default-jre-headless)
# issue 17: SoftHSM2 (a real PKCS#11 token for the HSM key store) and Node.js with npm (the
# certified OpenID Provider `oidc-provider` that the single sign-on tests start on loopback).
[[ -e /usr/lib/softhsm/libsofthsm2.so ]] || pkgs+=(softhsm2)
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
if ((${#pkgs[@]})); then
    if ! is_root; then
        die "missing system packages: ${pkgs[*]}. Install them as root:
    sudo apt-get update && sudo apt-get install -y ${pkgs[*]}"
    fi
    say "installing Debian packages: ${pkgs[*]}"
    aptlog="$(mktemp "${TMPDIR:-/tmp}/banso-apt.XXXXXX.log")"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}"; } \
            >"$aptlog" 2>&1; then
        cat "$aptlog" >&2
        die "apt-get install ${pkgs[*]} failed (log above)"
    fi
    rm -f "$aptlog"
fi
[[ -x /usr/bin/chromium ]] || die "/usr/bin/chromium is still missing after apt-get install chromium"

# ---------------------------------------------------------------- 3. throwaway PostgreSQL
PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
[[ -x "$PGBIN/initdb" ]] || die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"

PGTMP=""
RESULTS=""
PG_STARTED=0
PG_USER=""   # OS account that owns and runs the server (initdb refuses to run as root)

as_pg() {
    # cd /: the server account may not be allowed into the caller's working directory.
    if [[ -n "$PG_USER" ]]; then (cd / && runuser -u "$PG_USER" -- "$@"); else "$@"; fi
}

stop_postgres() {
    if ((PG_STARTED)); then
        as_pg "$PGBIN/pg_ctl" -D "$PGTMP/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
            || as_pg "$PGBIN/pg_ctl" -D "$PGTMP/data" -m immediate -w -t 10 stop >/dev/null 2>&1 \
            || say "WARNING: could not stop PostgreSQL (data dir $PGTMP)"
        PG_STARTED=0
        say "PostgreSQL stopped"
    fi
    if [[ -n "$PGTMP" ]]; then rm -rf "$PGTMP"; PGTMP=""; fi
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_postgres
    [[ -n "$RESULTS" ]] && rm -rf "$RESULTS"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_postgres() {
    if is_root; then
        if id -u postgres >/dev/null 2>&1; then
            PG_USER=postgres
        else
            id -u banso-test >/dev/null 2>&1 \
                || useradd --system --no-create-home --shell /usr/sbin/nologin banso-test
            PG_USER=banso-test
        fi
    fi
    PGTMP="$(mktemp -d "${TMPDIR:-/tmp}/banso-pg.XXXXXX")"
    chmod 755 "$PGTMP"   # mktemp makes it 700; the server account must be able to enter it
    mkdir "$PGTMP/data" "$PGTMP/sock"
    [[ -n "$PG_USER" ]] && chown "$PG_USER" "$PGTMP/data" "$PGTMP/sock"
    : >"$PGTMP/server.log"
    [[ -n "$PG_USER" ]] && chown "$PG_USER" "$PGTMP/server.log"

    PGPORT="$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

    if ! as_pg "$PGBIN/initdb" -D "$PGTMP/data" -A trust -U banso -E UTF8 --locale=C.UTF-8 \
            >"$PGTMP/initdb.log" 2>&1; then
        cat "$PGTMP/initdb.log" >&2
        return 1
    fi
    if ! as_pg "$PGBIN/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGTMP/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >/dev/null; then
        cat "$PGTMP/server.log" >&2
        return 1
    fi
    PG_STARTED=1
    "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U banso banso_test \
        || { cat "$PGTMP/server.log" >&2; return 1; }
    say "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') running on 127.0.0.1:$PGPORT (data in $PGTMP, removed on exit)"
}

# ---------------------------------------------------------------- 4. pytest, twice
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1   # never fetch a browser; tests use /usr/bin/chromium
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
PY=.venv/bin/python

RESULTS="$(mktemp -d "${TMPDIR:-/tmp}/banso-results.XXXXXX")"

xdist=()
BANSO_TEST_WORKERS="${BANSO_TEST_WORKERS:-2}"
if [[ "${BANSO_TEST_WORKERS}" != "0" ]]; then
    xdist=(-n "$BANSO_TEST_WORKERS")
fi

heading "import contracts: lint-imports (pyproject.toml [tool.importlinter], docs/architecture.md)"
.venv/bin/lint-imports || die "a layer contract is broken (details above; docs/architecture.md says where code goes)"

heading "pass 1/2: SQLite — full suite (browser and spark included)"
rc_sqlite=0
env -u BANSO_TEST_DATABASE_URL "$PY" -m pytest -q "${xdist[@]}" --junit-xml="$RESULTS/sqlite.xml" "$@" \
    || rc_sqlite=$?

heading "pass 2/2: PostgreSQL — not browser and not spark"
rc_pg=0
if [[ "${BANSO_TEST_SKIP_PG:-0}" == "1" ]]; then
    say "BANSO_TEST_SKIP_PG=1: PostgreSQL pass skipped"
    rc_pg=skipped
elif ! start_postgres; then
    say "could not start the throwaway PostgreSQL server (see above)"
    rc_pg=99
else
    BANSO_TEST_DATABASE_URL="postgresql+psycopg://banso@127.0.0.1:$PGPORT/banso_test" \
        "$PY" -m pytest -q "${xdist[@]}" -m "not browser and not spark" --junit-xml="$RESULTS/postgresql.xml" "$@" \
        || rc_pg=$?
    for db in $("$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U banso -d banso_test -Atc \
            "select datname from pg_database where datname like 'banso_test%' order by 1" 2>/dev/null); do
        ntables="$("$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U banso -d "$db" -Atc \
            "select count(*) from information_schema.tables where table_schema = 'public'" 2>/dev/null || echo '?')"
        say "$db on PostgreSQL holds $ntables tables after pass 2"
    done
    stop_postgres
fi

# ---------------------------------------------------------------- 5. verdict
# Combined count over both passes, as a plain 'N passed, N failed' line.
"$PY" - "$RESULTS"/*.xml <<'PYEOF' || true
import sys, xml.etree.ElementTree as ET
t = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except Exception:
        continue
    for suite in ([root] if root.tag == "testsuite" else root.iter("testsuite")):
        for k in t:
            t[k] += int(suite.get(k, 0) or 0)
failed = t["failures"] + t["errors"]
passed = t["tests"] - failed - t["skipped"]
print(f"\ntotal: {passed} passed, {failed} failed, {t['skipped']} skipped")
PYEOF

ok() { [[ "$1" == 0 || "$1" == skipped ]]; }
status=1
if ok "$rc_sqlite" && ok "$rc_pg"; then
    status=0
elif [[ "$rc_sqlite" == 5 && "$rc_pg" == 0 ]] || [[ "$rc_sqlite" == 0 && "$rc_pg" == 5 ]]; then
    status=0   # one pass collected nothing, the other ran tests and passed
fi
echo "banso tests: sqlite=$rc_sqlite postgresql=$rc_pg"
exit "$status"
