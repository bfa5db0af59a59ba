"""MkDocs hook: docs/rules.md from the rule registry, once there is one.

The part of rules.md between `<!-- rules:generated -->` and `<!-- /rules:generated -->` is written by
hand until `pgolf.review.rules` exposes `registry_markdown() -> str`; from then on the build replaces
it with that function's Markdown, so the page says what the code enforces. Until then the page is
left as written (and says so).
"""

from __future__ import annotations

import importlib
import logging
import re

log = logging.getLogger("mkdocs.hooks.rules")
BLOCK = re.compile(r"<!-- rules:generated -->.*?<!-- /rules:generated -->", re.S)


def registry_markdown() -> str | None:
    """The registry's Markdown, or None while `pgolf.review.rules.registry_markdown` does not exist."""
    try:
        rules = importlib.import_module("pgolf.review.rules")
    except ImportError:
        return None
    render = getattr(rules, "registry_markdown", None)
    return render() if callable(render) else None


def on_page_markdown(markdown: str, page, **_) -> str:
    if page.file.src_uri != "rules.md":
        return markdown
    generated = registry_markdown()
    if generated is None:
        log.info("rules.md: no rule registry yet (pgolf.review.rules.registry_markdown); the page stays as written")
        return markdown
    return BLOCK.sub(lambda _m: generated.strip(), markdown, count=1)
