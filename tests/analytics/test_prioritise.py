from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from banso.analytics import topsis as tp
from banso.analytics.cli import app
from banso.analytics.engine import compute, write_outputs
from banso.analytics.errors import AnalyticsError
from banso.analytics.expressions import Window
from banso.analytics.prioritise import run_prioritise
from banso.analytics.technologies import load_technologies

runner = CliRunner()
# Car-selection example of F. Faez, "TOPSIS Method in MADM" (course notes, faez.ir/CourseFile/TOPSIS.pdf):
# criteria style, reliability, fuel economy (benefit) and cost (cost).
CARS = [[7, 9, 9, 8], [8, 7, 8, 7], [9, 6, 8, 9], [6, 7, 8, 6]]


def test_topsis_matches_published_worked_example() -> None:
    # Weights 0.1/0.4/0.3/0.2: closeness as published with TOPSIS-Python (Glitchfix/TOPSIS-Python README).
    r = tp.topsis(CARS, [0.1, 0.4, 0.3, 0.2], [True, True, True, False])
    np.testing.assert_allclose(r.closeness, [0.74269409, 0.40359933, 0.17586999, 0.44142927], atol=1e-8)
    assert r.rank.tolist() == [1, 3, 4, 2]
    # Weights 0.2/0.1/0.4/0.3 (the same course notes, slide 67): M2 best.
    r = tp.topsis(CARS, [0.2, 0.1, 0.4, 0.3], [True, True, True, False])
    np.testing.assert_allclose(r.closeness, [0.4545, 0.5678, 0.3703, 0.5527], atol=1e-4)
    assert r.rank.tolist() == [3, 1, 4, 2]


def test_weights_are_rescaled_and_validated() -> None:
    a = tp.topsis(CARS, [1, 4, 3, 2], [True, True, True, False]).closeness
    b = tp.topsis(CARS, [0.1, 0.4, 0.3, 0.2], [True, True, True, False]).closeness
    np.testing.assert_allclose(a, b)
    with pytest.raises(ValueError):
        tp.topsis(CARS, [-1, 1, 1, 1], [True] * 4)


def test_sensitivity_is_deterministic_and_bounded() -> None:
    s1 = tp.sensitivity(CARS, [0.1, 0.4, 0.3, 0.2], [True, True, True, False], samples=300, band=1, seed=3)
    s2 = tp.sensitivity(CARS, [0.1, 0.4, 0.3, 0.2], [True, True, True, False], samples=300, band=1, seed=3)
    np.testing.assert_array_equal(s1.p_keep_band, s2.p_keep_band)
    assert ((0 <= s1.p_keep_band) & (s1.p_keep_band <= 1)).all()
    # With no perturbation every alternative keeps its band.
    s0 = tp.sensitivity(CARS, [0.1, 0.4, 0.3, 0.2], [True, True, True, False], samples=20, spread=0.0, band=1)
    assert s0.p_keep_band.tolist() == [1.0] * 4
    # A dominating alternative always keeps rank 1.
    s = tp.sensitivity([[1, 1], [5, 5], [2, 3]], [0.5, 0.5], [True, True], samples=200, spread=0.9, band=1)
    assert s.p_keep_band[1] == 1.0


def test_contributions_rows_sum_to_one_in_absolute_value() -> None:
    c = tp.contributions(tp.topsis(CARS, [0.1, 0.4, 0.3, 0.2], [True, True, True, False]))
    np.testing.assert_allclose(np.abs(c).sum(axis=1), 1.0)
    assert c[0, 1] > 0  # the best car's reliability pulls it towards the ideal


@pytest.fixture(scope="module")
def indicators_dir(synth_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ind")
    write_outputs(compute(synth_store, load_technologies(), Window(2015, 2025)), out)
    return out


def test_prioritise_and_report_end_to_end(indicators_dir: Path, tmp_path: Path) -> None:
    needs = tmp_path / "needs.csv"
    needs.write_text("technology,score,reason,ministry\nG09-quantum,5,暗号移行の必要,総務省\n"
                     "G09-quantum,4,防衛通信,防衛省\nG16-ocean,3,海洋監視,国交省\n", encoding="utf-8")
    weights = tmp_path / "w.yaml"
    weights.write_text("needs: 0.5\nmomentum: 0\n", encoding="utf-8")
    # min_works=1: this small snapshot's technologies would all be small samples (unranked) at the default.
    res = run_prioritise(indicators_dir, tmp_path / "prio", weights_file=weights, needs_file=needs, samples=200,
                         min_works=1)
    r = res.ranking
    assert sorted(r["rank"]) == list(range(1, len(r) + 1))
    q = r[r["technology"] == "G09-quantum"].iloc[0]
    assert q["needs"] == 4.5 and "総務省: 暗号移行の必要" in q["needs_reason"]
    assert res.weights["needs"] == 0.5 and res.weights["momentum"] == 0.0
    assert r["explanation"].str.len().gt(0).all()
    assert ((r["p_keep_band"] >= 0) & (r["p_keep_band"] <= 1)).all()
    # Higher needs weight puts the technology with the highest need near the top.
    assert q["rank"] <= 5
    for lang in ("ja", "en"):
        res2 = runner.invoke(app, ["report", "--indicators", str(indicators_dir), "--priorities",
                                   str(tmp_path / "prio"), "--out", str(tmp_path / "rep"), "--lang", lang])
        assert res2.exit_code == 0, res2.output
    ja = (tmp_path / "rep" / "report_ja.html").read_text(encoding="utf-8")
    en = (tmp_path / "rep" / "report_en.html").read_text(encoding="utf-8")
    assert "重要技術インテリジェンス報告" in ja and "量子情報科学" in ja
    assert "Critical technology intelligence report" in en and "Quantum information science" in en
    assert ja.count("data:image/png;base64,") == 3
    wb = load_workbook(tmp_path / "rep" / "report.xlsx")
    # The snapshot is synthetic: the workbook says so on a first sheet (issue 16), then the three tables.
    assert wb.sheetnames == ["synthetic", "説明", "technologies", "indicators", "ranking", "top_institutions"]  # + explanation, leading institutions (issue 16)
    assert wb["technologies"]["A1"].value == "technology" and wb["technologies"].max_row > 10


def test_prioritise_bad_inputs(indicators_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "needs.csv"
    bad.write_text("technology,score,reason\nNOPE,3,x\n", encoding="utf-8")
    with pytest.raises(AnalyticsError, match="unknown technology id 'NOPE'"):
        run_prioritise(indicators_dir, tmp_path / "o", needs_file=bad, samples=10)
    bad.write_text("technology,score,reason\nG09-quantum,7,x\n", encoding="utf-8")
    with pytest.raises(AnalyticsError, match="from 1 to 5"):
        run_prioritise(indicators_dir, tmp_path / "o", needs_file=bad, samples=10)
    bad.write_text("technology,score,reason\nG09-quantum,3,\n", encoding="utf-8")
    with pytest.raises(AnalyticsError, match="reason is required"):
        run_prioritise(indicators_dir, tmp_path / "o", needs_file=bad, samples=10)
    w = tmp_path / "w.yaml"
    w.write_text("speed: 1\n", encoding="utf-8")
    res = runner.invoke(app, ["prioritise", "--indicators", str(indicators_dir), "--out", str(tmp_path / "o"),
                              "--weights", str(w)])
    assert res.exit_code == 2 and "unknown criterion 'speed'" in res.output
    res = runner.invoke(app, ["prioritise", "--indicators", str(tmp_path / "none"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "not found" in res.output


def test_report_is_filed_into_a_council(indicators_dir: Path, tmp_path: Path) -> None:
    """T6: `analyze report --file-into COUNCIL --as EMAIL` files the outputs as a think-tank item."""
    from sqlalchemy import select

    from banso.app.wiring import build_context
    from banso.config import Mode, Settings
    from banso.councils.models import Council
    from banso.demo import seed
    from banso.demo.councils import SPACE, seed_councils
    from banso.information.models import Item, ItemFile
    from banso.migrations import migrate
    from banso.sealed import store as sealed
    from tests.support.cli import banso

    data = tmp_path / "data"
    ctx = build_context(Settings(mode=Mode.DEVELOPMENT, data_dir=data, database_url=None))
    migrate.upgrade(ctx.engine)
    with ctx.sessions() as db:
        seed.seed(db, box=ctx.box, now=ctx.clock.now())
        seed_councils(db, now=ctx.clock.now(), store=sealed.local_deps(ctx.data_dir, ctx.settings.secret_key))
        db.commit()
        council_id = db.scalar(select(Council.id).where(Council.title_ja == SPACE))
    needs = tmp_path / "needs.csv"  # T8: a needs reason must not reach the council's members through the filing
    needs.write_text("technology,score,reason,ministry\nG09-quantum,5,QXSECRETREASON暗号移行,総務省\n", encoding="utf-8")
    run_prioritise(indicators_dir, tmp_path / "prio", needs_file=needs, samples=50, min_works=1)
    args = ["analyze", "report", "--indicators", str(indicators_dir), "--out", str(tmp_path / "rep"),
            "--priorities", str(tmp_path / "prio"), "--file-into", str(council_id), "--as"]
    refused = banso([*args, "yamamoto.aya@tohoku.example.jp"], data)  # not an analyst (nor a member)
    assert refused.returncode != 0 and "Only analysts file reports" in (refused.stdout + refused.stderr)
    # a member of the council who is no analyst: refused as on the page and the API (outside tester, session 12)
    refused = banso([*args, "watanabe.shota@utokyo.example.jp"], data)
    assert refused.returncode != 0 and "分析担当者" in (refused.stdout + refused.stderr)
    filed = banso([*args, "kobayashi.mari@estt.example.or.jp"], data)  # the think tank's observer
    assert filed.returncode == 0, filed.stderr
    with ctx.sessions() as db:
        item = db.scalar(select(Item).where(Item.council_id == council_id, Item.provenance == "think_tank"))
        assert item is not None and item.state == "council"
        names = set(db.scalars(select(ItemFile.filename).where(ItemFile.item_id == item.id)))
    assert {"report.xlsx", "technologies.csv", "indicators.csv"} <= names
    # The operator's own report keeps the reasons; the filed copy does not (the page's filing does the same).
    assert "QXSECRETREASON" in _workbook_text(tmp_path / "rep" / "report.xlsx")
    with ctx.sessions() as db:
        from banso.information import content
        from banso.information.deps import information_deps

        row = db.scalar(select(ItemFile).where(ItemFile.item_id == item.id, ItemFile.filename == "report.xlsx"))
        assert row is not None
        data = content.file_bytes(db, information_deps(ctx), item, row, actor=None, now=ctx.clock.now())
    filed_copy = tmp_path / "filed.xlsx"
    filed_copy.write_bytes(data)
    assert "QXSECRETREASON" not in _workbook_text(filed_copy)
    ctx.engine.dispose()


def _workbook_text(path: Path) -> str:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    return "\n".join(str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                     for v in row if v is not None)
