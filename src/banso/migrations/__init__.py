"""The database schema over time: Alembic migrations, the model registry, the runner and ``banso db``."""
