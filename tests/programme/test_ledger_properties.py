"""Ledger properties (hypothesis): never overdrawn, every transaction balances, the reconciliation sums."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from banso.kit.clock import FakeClock
from banso.kit.errors import Conflict
from banso.programme import repository as repo
from banso.programme import rules, service
from tests.support.factories import Factory
from tests.support.programme import adopt, build_world, establish_council, submit

M = 1_000_000
_ARRANGED: dict[int, tuple[object, object]] = {}
OPS = st.lists(st.tuples(st.sampled_from(["tranche", "commit", "release", "disburse", "return"]),
                         st.integers(min_value=1, max_value=600) .map(lambda n: n * M),
                         st.sampled_from([2026, 2027])), min_size=1, max_size=25)


@given(st.sampled_from(["tranche", "commitment", "release", "disbursement", "return"]),
       st.integers(min_value=1, max_value=10**13), st.integers(min_value=1, max_value=10**6))
def test_every_transaction_kind_balances(kind: str, amount: int, project_id: int) -> None:
    debit, credit = rules.legs_for(kind, agency="JST", amount=amount, project_id=project_id)
    assert rules.balanced([debit.amount, credit.amount]) and debit.amount == amount and debit.account != credit.account


@given(st.integers(min_value=0, max_value=10**12))
def test_yen_text_round_trips(amount: int) -> None:
    assert rules.parse_yen(rules.format_yen(amount), allow_zero=True) == amount
    assert rules.parse_yen(f"{amount:,}円", allow_zero=True) == amount


@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(max_value=-1) | st.decimals())
def test_non_yen_values_are_refused(value: object) -> None:
    import pytest

    from banso.kit.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        rules.parse_yen(value)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(ops=OPS)
def test_random_operations_keep_the_ledger_sound(db: Session, factory: Factory, clock: FakeClock,
                                                 ops: list[tuple[str, int, int]]) -> None:
    if id(db) not in _ARRANGED:  # arrange once per test run (hashing passwords is slow), not per example
        w = build_world(db, factory, clock)
        project = adopt(db, w, clock, submit(db, w, clock))
        establish_council(db, w, clock, project)
        _ARRANGED.clear()
        _ARRANGED[id(db)] = (w, project)
    w, project = _ARRANGED[id(db)]  # type: ignore[assignment]
    outer = db.begin_nested()  # each example starts from the same empty ledger
    try:
        staff = w.staff.principal()
        model = {"available": 0, "committed": 0, "disbursed": 0}
        committed_by_year = {2026: 0, 2027: 0}
        plan = {2026: 300 * M, 2027: 400 * M}
        for op, amount, fy in ops:
            try:
                if op == "tranche":
                    service.add_tranche(db, agency_code="JST", fiscal_year=2026, amount=amount, now=clock.now(),
                                        actor=staff)
                    model["available"] += amount
                elif op == "commit":
                    service.commit_funds(db, project_id=project.id, fiscal_year=fy, amount=amount, now=clock.now(),
                                         actor=staff)
                    model["available"] -= amount
                    model["committed"] += amount
                    committed_by_year[fy] += amount
                elif op == "release":
                    service.release_commitment(db, project_id=project.id, fiscal_year=fy, amount=amount,
                                               now=clock.now(), actor=staff)
                    model["available"] += amount
                    model["committed"] -= amount
                    committed_by_year[fy] -= amount
                elif op == "disburse":
                    service.disburse(db, project_id=project.id, amount=amount, now=clock.now(), actor=staff,
                                     councils=w.councils)
                    model["committed"] -= amount
                    model["disbursed"] += amount
                else:
                    service.record_return(db, project_id=project.id, amount=amount, now=clock.now(), actor=staff)
                    model["disbursed"] -= amount
                    model["available"] += amount
            except Conflict:
                pass  # refused: must have changed nothing (checked against the model below)
            # never overdrawn
            assert all(v >= 0 for v in model.values())
            for account in repo.all_accounts(db):
                assert account.kind == "source" or account.balance >= 0, account.key
            assert all(committed_by_year[y] <= plan[y] for y in plan)
        report = service.reconcile(db, actor=None, agency_code="JST")
        assert report.ok, report
        jst = report.agencies[0]
        assert (jst.available, jst.committed, jst.disbursed) == (model["available"], model["committed"],
                                                                 model["disbursed"])
        assert jst.received == sum(amount for op, amount, _ in ops if op == "tranche")
    finally:
        outer.rollback()
