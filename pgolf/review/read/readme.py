"""What a record's README says about how its runs were chosen: `the top 3 of 5 seeds`, `only the best 3 logs
(of 6 runs)`. A headline formed from runs picked after the fact is a finding (claim.selected_seeds)."""

from __future__ import annotations

import re

_WORD_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_N = r"(\d{1,2}|" + "|".join(_WORD_NUMBERS) + r")"
# `top 3 of 5`, `best 3 out of 6 seeds`, `the 3 best of 5 runs`
_K_OF_N = re.compile(rf"\b(?:top|best|lowest)[ -]{_N}\s+(?:\w+\s+)?(?:of|out of|from|among)\s+(?:the\s+)?{_N}\b"
                     rf"|\b{_N}\s+best\s+(?:of|out of|from|among)\s+(?:the\s+)?{_N}\b", re.IGNORECASE)
# `only the top 3 logs`, `kept the best 3 runs`: a selection whose pool the README does not size
_ONLY_K = re.compile(rf"\b(?:only|kept|keep|keeping|include[sd]?|selected)\s+(?:the\s+)?(?:top|best|lowest)[ -]{_N}"
                     rf"\s+(?:seeds?|runs?|logs?)\b", re.IGNORECASE)


def _n(word: str) -> int:
    return int(word) if word.isdigit() else _WORD_NUMBERS[word.lower()]


def readme_selected(text: str) -> tuple[int, int | None, str] | None:
    """(k, n or None, the words) where a README says its logs are the best k of n runs, else None.

    >>> readme_selected("We report the top 3 of 5 seeds.")
    (3, 5, 'top 3 of 5')
    >>> readme_selected("Only the best three logs are included.")
    (3, None, 'Only the best three logs')
    >>> readme_selected("3 seeds, mean of all of them") is None
    True
    """
    if m := _K_OF_N.search(text):
        k, n = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        if _n(n) > _n(k):
            return _n(k), _n(n), m.group(0)
    if m := _ONLY_K.search(text):
        return _n(m.group(1)), None, m.group(0)
    return None
