"""THE access policy of banso: every "may X do Y to Z" is decided in this package and only here.

- ``permissions``: the vocabulary (``"<scope>:<resource>:<action>"``) and the role map.
- ``principal``: who is asking (a person through a session or an API token).
- ``policies/<domain>.py``: decisions that need the resource (ownership, membership, pledge, scope).
- ``guard``: turns a decision into an exception — 404 for resources the caller may not know exist (I7).
"""
