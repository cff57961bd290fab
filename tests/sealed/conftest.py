"""Fixtures of the sealed-store tests: the session's SoftHSM2 token and a label prefix per test."""

from tests.support.hsm import hsm_prefix, softhsm  # noqa: F401 - fixtures
