"""Import every domain's models so ``Base.metadata`` knows all tables (Alembic, tests)."""

from __future__ import annotations

from sqlalchemy import MetaData

from banso.db.base import Base


def load_all_models() -> MetaData:
    """Import all model modules and return the metadata."""
    import banso.accounts.models
    import banso.audit.models
    import banso.councils.models
    import banso.information.models
    import banso.information.search_models
    import banso.notifications.models
    import banso.programme.models
    import banso.sealed.models
    import banso.thinktank.models  # noqa: F401

    return Base.metadata
