"""Which works need their text rebuilt for keyword matching, decided from titles and index JSON (T1).

A work's text is ``lower(title) + "\\n" + lower(abstract)`` (:func:`banso.analytics.texts.work_text`),
the abstract rebuilt from the stored index JSON — the costly step. :class:`KeywordScreen` settles most
works without it, for a whole store part at once: one Aho–Corasick pass over all the part's lower-cased
titles and index JSON texts (joined by NUL), the finds mapped back to works with NumPy.

Why the finds decide (the index JSON as the ingest stores it: compact, validated, and written verbatim
when it holds no backslash — works whose JSON holds one are always rebuilt):

- A phrase's space-separated tokens hold no space, so each lies inside one word of the abstract, and a
  word is a key of the index. A phrase of several tokens occurs either wholly in the title (then each
  token occurs in the title) or wholly in the abstract (no phrase holds a newline; such phrases make
  every work rebuilt). In the abstract, the space after its first token is a join between two words
  (the word ends there: the key is followed by its closing quote, ``token"``) or a space inside a key
  (``token ``); likewise the last token is preceded by ``"`` or a space, and a middle token has one of
  the two on each side. Only when one of these holds for every token can the phrase occur, and the work
  is rebuilt — unless every technology of the phrase is settled already.
- A one-token phrase whose token holds no JSON punctuation (``"{}[]:,``) and is not all digits cannot
  be found in the JSON's own punctuation or position lists: a find is a find inside a key, so the work
  has that phrase's technologies without a rebuild (*settled*). Other one-token phrases are checked like
  longer ones, without the quote/space context.

``tests/analytics/test_texts.py`` checks on generated works and phrases (quotes, backslashes, spaces
and newlines inside words, Greek sigma, dotted I, digits, JSON punctuation) that matching after the
screen gives exactly the pairs of matching every rebuilt text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ahocorasick_rs
import numpy as np
import numpy.typing as npt

_SEP = "\x00"
_JSON_PUNCTUATION = '"{}[]:,'
_DIGITS = "0123456789"


def settles(token: str) -> bool:
    """Return True when a find of this one-token phrase in a title or index JSON is a match by itself.

    >>> settles("qubit"), settles("5g"), settles("1,2"), settles("2024"), settles('a"b')
    (True, True, False, False, False)
    """
    return any(c not in _DIGITS for c in token) and not any(c in _JSON_PUNCTUATION for c in token)


@dataclass(frozen=True)
class _Check:
    """A phrase the finds cannot settle: rebuild when it may occur and adds a technology."""

    techs: npt.NDArray[np.intp]  # columns of the phrase's technologies
    in_title: tuple[int, ...]  # patterns that must all be found in the title
    in_index: tuple[tuple[int, ...], ...]  # one of each group must be found in the index JSON


class KeywordScreen:
    """Decide, per work, the technologies its finds settle and whether its text must be rebuilt.

    ``phrases`` are lower-cased keyword phrases, ``owners[i]`` the technology columns (indexes into
    the caller's technology order) of ``phrases[i]``.
    """

    def __init__(self, phrases: Sequence[str], owners: Sequence[Sequence[int]], n_techs: int) -> None:
        self.n_techs = n_techs
        self.screenable = all(p.split() and "\n" not in p and _SEP not in p for p in phrases)
        patterns: dict[str, int] = {}

        def pid(s: str) -> int:
            return patterns.setdefault(s, len(patterns))

        settled: dict[int, set[int]] = {}
        checks: list[_Check] = []
        for phrase, techs in zip(phrases, owners, strict=True):
            toks = [x for x in phrase.split(" ") if x]
            if not toks:
                continue
            if len(toks) == 1 and settles(toks[0]):
                settled.setdefault(pid(toks[0]), set()).update(techs)
                continue
            groups = []
            for j, t in enumerate(toks):
                left = ('"', " ") if j > 0 else ("",)
                right = ('"', " ") if j < len(toks) - 1 else ("",)
                groups.append(tuple(pid(a + t + b) for a in left for b in right))
            checks.append(_Check(np.array(sorted(set(techs)), np.intp), tuple(pid(t) for t in toks), tuple(groups)))
        self._settled = [(p, np.array(sorted(ts), np.intp)) for p, ts in settled.items()]
        self._checks = checks
        self._n_patterns = len(patterns)
        self._ac = (ahocorasick_rs.BytesAhoCorasick([p.encode() for p in patterns],
                                                     implementation=ahocorasick_rs.Implementation.DFA)
                    if patterns else None)

    def screen(
        self, titles: Sequence[str | None], indexes: Sequence[str | None],
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """Return (settled, rebuild): an (n × technologies) matrix of settled technologies, and which works to rebuild.

        A rebuilt work's technologies come from its rebuilt text alone (its settled row is a subset).
        """
        n = len(titles)
        settled = np.zeros((n, self.n_techs), np.bool_)
        rebuild = np.zeros(n, np.bool_)
        if not self.screenable:
            rebuild[:] = True
            return settled, rebuild
        if self._ac is None or n == 0:
            return settled, rebuild
        # UTF-8 bytes: the byte automaton runs about 2.5× faster than the one over str.
        hays: list[bytes] = []
        title_len = np.empty(n, np.int64)
        hay_len = np.empty(n, np.int64)
        for i, (title, index) in enumerate(zip(titles, indexes, strict=True)):
            t = (title or "").lower().encode()
            x = index or ""
            if "\\" in x:
                rebuild[i] = True  # escapes: keys are not written verbatim
                x = ""
            hay = t + b"\n" + x.lower().encode()
            hays.append(hay)
            title_len[i] = len(t)
            hay_len[i] = len(hay)
        starts = np.zeros(n, np.int64)
        np.cumsum(hay_len[:-1] + 1, out=starts[1:])
        found = self._ac.find_matches_as_indexes(_SEP.encode().join(hays), overlapping=True)
        if not found:
            return settled, rebuild
        m = np.array(found, np.int64).reshape(-1, 3)
        pat, begin, end = m[:, 0], m[:, 1], m[:, 2]
        work = np.searchsorted(starts, begin, side="right") - 1
        in_title = end <= starts[work] + title_len[work]
        title_hit = np.zeros((n, self._n_patterns), np.bool_)  # np.zeros: pages never written stay unmapped
        title_hit[work[in_title], pat[in_title]] = True
        index_hit = np.zeros((n, self._n_patterns), np.bool_)
        index_hit[work[~in_title], pat[~in_title]] = True
        for p, techs in self._settled:
            settled[np.ix_(title_hit[:, p] | index_hit[:, p], techs)] = True
        for c in self._checks:
            may = title_hit[:, list(c.in_title)].all(axis=1)
            in_index = np.ones(n, np.bool_)
            for group in c.in_index:
                in_index &= index_hit[:, list(group)].any(axis=1)
            may |= in_index
            rebuild |= may & ~settled[:, c.techs].all(axis=1)
        return settled, rebuild
