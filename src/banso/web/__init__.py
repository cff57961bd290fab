"""The web application: FastAPI app, HTML views, JSON API under /api/v1."""
