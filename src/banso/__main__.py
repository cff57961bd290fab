"""``python -m banso``: the same as the ``banso`` command."""

from banso.app.cli import main

if __name__ == "__main__":  # worker processes (spawn) import this module again: only the parent runs
    main()
