"""axe-core (Deque's accessibility engine, from the npm registry) for the browser tests (issue 14).

:func:`axe_source` installs the locked version with ``npm ci`` into this directory's node_modules
(``tests.support.npm``) and returns ``axe.min.js``; :func:`serious_violations` runs it in a Playwright
page and returns the serious and critical violations, each with the selectors of the nodes it found.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.npm import npm_ci

HERE = Path(__file__).resolve().parent
SEVERE = ("serious", "critical")


def axe_source() -> str:
    """Return the text of axe.min.js, installing axe-core first when needed."""
    npm_ci(HERE, "axe-core (the accessibility checks)")
    return (HERE / "node_modules" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")


def serious_violations(page: Any, source: str) -> list[str]:
    """Run axe on the page (WCAG 2.1 A/AA rules) and describe each serious or critical violation."""
    page.add_script_tag(content=source)  # the context bypasses the CSP: the app itself allows no inline script
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})")
    found = []
    for violation in result["violations"]:
        if violation.get("impact") in SEVERE:
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:5]]
            found.append(f"{violation['impact']} {violation['id']}: {violation['help']} at {targets}")
    return found
