"""Accounts: organisations, people, roles, passwords, second factor, sessions and API tokens."""
