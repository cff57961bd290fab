"""Test support: factories, HTTP helpers and scenario builders shared by the test packages.

Plain modules, imported by name (``from tests.support.http import sign_in``); the ``conftest.py`` files
hold only fixtures, which build on these.
"""
