"""Import every domain's models so ``Base.metadata`` knows all tables (Alembic, tests)."""

from __future__ import annotations

from sqlalchemy import MetaData

from banso.db.base import Base


def load_all_models() -> MetaData:
    """Import all model modules and return the metadata."""
    import banso.accounts.models  # noqa: F401
    import banso.audit.models  # noqa: F401
    import banso.councils.models  # noqa: F401
    import banso.information.models  # noqa: F401
    import banso.information.search_models  # noqa: F401
    import banso.notifications.models  # noqa: F401
    import banso.programme.models  # noqa: F401
    import banso.sealed.models  # noqa: F401
    import banso.thinktank.models  # noqa: F401

    return Base.metadata
