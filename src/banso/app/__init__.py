"""The composition root: the one place that knows every domain.

``wiring`` builds every external system from the settings into an ``AppContext``; ``factory``
assembles the FastAPI app (middleware, every domain's routers, the job loop); ``pages`` holds the
shell pages over several domains (front door, dashboard); ``commands`` the server, demo and job
commands; ``cli`` the ``banso`` command that mounts every domain's commands. Nothing imports
``banso.app`` (the layer contracts in pyproject.toml say so; see docs/architecture.md).
"""
