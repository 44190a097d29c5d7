"""The ``o`` key: open the article's source file in the user's editor or the system opener.

The decision is the library's (:func:`searchlib.opener.plan_open`); here the app steps aside
for a terminal editor (``App.suspend``) and reports the outcome as a notification. An article
whose file is gone shows its URL (copied to the clipboard), never opens it.
"""

from __future__ import annotations

from contextlib import ExitStack, suppress

from textual.app import App, SuspendNotSupported

from searchlib import Article, Hit, SearchlibError
from searchlib.opener import hit_line, matched_line, plan_open, run_plan, source_file

__all__ = ["open_article_source", "open_hit_source"]


def open_article_source(app: App[object], article: Article, words: list[str] | None = None,
                        context: str = "", *, line: int | None = None) -> None:
    """Open ``article``'s file, at the line of ``words`` (seen in ``context``) when given."""
    path = source_file(article.path)
    if line is None and path is not None and words:
        line = matched_line(path, words, context)
    try:
        plan = plan_open(article, line=line)
        if plan.kind == "url":
            app.copy_to_clipboard(plan.url or "")
            app.notify(plan.url or "", title="File gone; URL copied to the clipboard",
                       markup=False, timeout=8)
            return
        with ExitStack() as stack:
            if plan.terminal:
                # Without a terminal to hand over (a test, a web session) it runs as is.
                with suppress(SuspendNotSupported):
                    stack.enter_context(app.suspend())
            status = run_plan(plan)
    except SearchlibError as exc:
        app.notify(str(exc), title="Cannot open the article", severity="error", markup=False)
        return
    if status != 0:
        app.notify(f"{plan.argv[0]} exited with status {status}", severity="warning",
                   markup=False)
    elif plan.kind == "opener":
        app.notify(f"Opened {plan.path}", timeout=3, markup=False)
    app.refresh()


def open_hit_source(app: App[object], hit: Hit) -> None:
    """Open a search hit's file at the line of its first highlighted match."""
    index = getattr(app, "index", None)
    if index is None:
        return
    try:
        article = index.get(hit.id)
    except KeyError:
        app.notify("That article is no longer in the index.", severity="error")
        return
    path = source_file(article.path)
    line = hit_line(path, article.text, hit.snippet, hit.highlights) if path else None
    open_article_source(app, article, line=line)
