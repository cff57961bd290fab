"""Database: engine, sessions, declarative base and mixins."""
