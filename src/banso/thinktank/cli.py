"""``banso analyze``: the analytics commands (T1–T7), with the report filed into a council on request (T6).

The analytics package is a library that knows nothing of councils; filing its outputs as a
think-tank information item is the think tank's, so the ``report`` command is assembled here.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from banso.analytics import cli as analytics_cli
from banso.analytics.cli import IndicatorsDir, Lang, NamesFile, OutDir, PrioritiesDir

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from banso.authz.principal import Principal

# The council, account and report modules are imported inside the commands that use them: they pull in the web
# app, SQLAlchemy's ORM, pandas and matplotlib, and `banso analyze ingest` needs none of that (session 11: the
# imports cost every `banso analyze …` call seconds before it read a byte).

app = typer.Typer(no_args_is_help=True, help=analytics_cli.HELP)
analytics_cli.add_pipeline_commands(app)


@app.command()
def report(
    indicators_dir: IndicatorsDir,
    out_dir: OutDir,
    priorities: PrioritiesDir = None,
    lang: Lang = "ja",
    technologies: NamesFile = None,
    file_into: Annotated[int | None, typer.Option("--file-into", help="File the outputs into this council "
                                                   "as a think-tank information item (T6).")] = None,
    as_email: Annotated[str | None, typer.Option("--as", help="E-mail of the member who files it.")] = None,
) -> None:
    """Write the HTML report (ja/en) with charts and the Excel workbook (T6); optionally file it."""
    if file_into is not None and not as_email:
        raise analytics_cli.fail(ValueError("--file-into には --as EMAIL（報告を提出する協議会メンバー）が必要です / "
                                                 "--file-into needs --as EMAIL (the council member who files the report)"))
    paths = analytics_cli.write_report_files(indicators_dir, out_dir, priorities=priorities, lang=lang,
                                             technologies=technologies)
    result = {k: str(v) for k, v in paths.items()}
    if file_into is not None and as_email:
        with tempfile.TemporaryDirectory(prefix="banso-file-") as tmp:
            filed = _filed_copies(indicators_dir, Path(tmp), priorities=priorities, lang=lang,
                                  technologies=technologies) if priorities is not None else paths
            result["item_id"] = str(_file_report(file_into, as_email, indicators_dir, filed))
    analytics_cli.out.print(json.dumps(result, ensure_ascii=False))


def _filed_copies(indicators_dir: Path, tmp: Path, *, priorities: Path, lang: str,
                  technologies: Path | None) -> dict[str, Path]:
    """Write the report files to be filed from the ranking without its needs reasons (T8).

    Why: a filed report is read by every member of the council, most of whom may not see needs reasons;
    the page's filing leaves them out the same way (:func:`banso.thinktank.reports.without_reasons`).
    """
    import pandas as pd

    from banso.thinktank import reports

    shutil.copytree(priorities, tmp / "priorities")
    ranking_file = tmp / "priorities" / "ranking.parquet"
    if ranking_file.is_file():
        reports.without_reasons(pd.read_parquet(ranking_file)).to_parquet(ranking_file)
    return analytics_cli.write_report_files(indicators_dir, tmp / "out", priorities=tmp / "priorities", lang=lang,
                                            technologies=technologies)


@app.command("file-commission")
def file_commission(
    commission_id: Annotated[int, typer.Argument(help="The commission (委託) to file the report into.")],
    as_email: Annotated[str, typer.Option("--as", help="E-mail of the analyst engaged in the commission.")],
    kind: Annotated[str, typer.Option("--kind", help="report.xlsx, report.pdf, priorities.csv or "
                                                      "indicators.csv")] = "report.xlsx",
    analysis_id: Annotated[int | None, typer.Option("--analysis-id", help="A saved analysis version "
                                                                          "(default: the current ranking).")] = None,
) -> None:
    """File the think tank's report (the analysis under the data folder) as a commission deliverable (F5, T6).

    The commission decides as on the page: the analyst must be named on its Art. 64 roster and have
    acknowledged the duty, and the commission must be active. Needs reasons are left out of the filed copy.
    """
    from banso.kit.cli import unit_of_work
    from banso.thinktank import reports, service
    from banso.thinktank.interfaces import commission_filer
    from banso.web.context import app_context

    if kind not in reports.COMMISSION_KINDS:  # a usage error: exit 2 before the database is opened
        raise analytics_cli.fail(ValueError(
            f"--kind は {', '.join(reports.COMMISSION_KINDS)} のいずれかです / --kind must be one of "
            f"{', '.join(reports.COMMISSION_KINDS)} (got {kind!r})"))
    ctx = app_context()
    analysis = service.load_analysis(ctx.settings.data_dir)
    if analysis is None:
        raise analytics_cli.fail(ValueError(f"{service.analytics_dir(ctx.settings.data_dir)} に分析結果がありません。先に `banso analyze` を実行してください / "
                                            ""
                                            f"no analysis under {service.analytics_dir(ctx.settings.data_dir)}; "
                                            "run `banso analyze` first"))
    with unit_of_work(ctx) as db:  # a refusal exits 1 with its message; nothing is filed
        actor = _actor(db, as_email)
        deliverable_id = reports.file_into_commission(db, commission_filer(ctx), analysis, actor=actor,
                                                      now=ctx.clock.now(), commission_id=commission_id, kind=kind,
                                                      saved_id=analysis_id)
    analytics_cli.out.print(json.dumps({"commission_id": commission_id, "deliverable_id": deliverable_id}))


@app.command("needs-import")
def needs_import(
    csv_file: Annotated[Path, typer.Argument(help="Needs CSV: technology,score,reason[,ministry] (score 1–5).")],
    as_email: Annotated[str, typer.Option("--as", help="E-mail of the needs-ministry officer who enters them.")],
) -> None:
    """Import a needs CSV into the needs table (T5, T8): one new version per row, audited; all rows or none."""
    if not csv_file.is_file():
        raise analytics_cli.fail(ValueError(f"ニーズファイルが見つかりません: {csv_file} / needs file not found: {csv_file}"))
    try:
        text = csv_file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise analytics_cli.fail(ValueError(f"{csv_file}: UTF-8 のテキストではありません / {csv_file}: not UTF-8 text")) from None
    from banso.kit.cli import unit_of_work
    from banso.thinktank import service
    from banso.web.context import app_context

    ctx = app_context()
    with unit_of_work(ctx) as db:  # a refused row exits 1 with its message; nothing of the file is kept
        actor = _actor(db, as_email)
        rows = service.import_needs(db, actor=actor, now=ctx.clock.now(), text=text, name=csv_file.name)
        result = {"imported": len(rows), "technologies": sorted({r.technology for r in rows})}
    analytics_cli.out.print(json.dumps(result, ensure_ascii=False))


def _actor(db: Session, email: str) -> Principal:
    """Return the principal of the active person with ``email`` (the operator acts for them)."""
    from banso.accounts import repository as accounts_repo
    from banso.accounts import service as accounts
    from banso.authz.principal import AuthMethod

    user = accounts_repo.user_by_email(db, email)
    if user is None or not user.is_active:
        raise analytics_cli.fail(ValueError(f"メールアドレス {email} の有効な利用者がいません / no active person with e-mail {email}"))
    return accounts.principal_for(user, method=AuthMethod.SESSION, mfa=user.totp_enabled)


def _file_report(council_id: int, email: str, indicators_dir: Path, paths: dict[str, Path]) -> int:
    """File the workbook and the indicator tables into a council as one item (T6)."""
    from banso.information import filing
    from banso.information.deps import information_deps
    from banso.kit.cli import unit_of_work
    from banso.thinktank import reports
    from banso.web.context import app_context

    ctx = app_context()
    with unit_of_work(ctx) as db:
        # The operator acts for a person who holds a second factor; the policy still checks membership,
        # pledge and council state (I7).
        actor = _actor(db, email)
        reports.require_council_filer(actor)  # the page's and the API's rule (outside tester, session 12)
        files = [p for p in paths.values() if p.suffix in (".xlsx", ".csv", ".pdf", ".png")]
        files += [p for p in (indicators_dir / "technologies.csv", indicators_dir / "indicators.csv") if p.is_file()]
        item = filing.file_report(db, information_deps(ctx), council_id=council_id, actor=actor,
                                  now=ctx.clock.now(), title=f"技術動向分析レポート（{indicators_dir.name}）",
                                  summary="シンクタンクの技術動向分析（国別指標・優先度）。HTML版は分析環境に保存。",
                                  paths=files)
        return item.id
