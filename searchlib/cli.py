"""The ``search`` command: a thin click layer over the searchlib library.

Results go to stdout, progress and diagnostics to stderr. Exit codes follow grep: 0 when
something was found, 1 when nothing was, 2 on any error (with a one-line message).
Heavy modules (Whoosh, the cleaner, Textual) are imported inside the commands that need them,
so that ``search query`` starts fast.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .errors import SearchlibError
from .models import FACET_KINDS
from .textsafe import json_terminal_safe, terminal_safe

if TYPE_CHECKING:
    from .models import Hit, IndexSummary, SearchResults
    from .search import Index

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])


class UserError(click.ClickException):
    """A problem the user can fix; printed as one line, exit status 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        # Messages quote paths, queries and file contents: never let them drive the terminal.
        click.echo(f"search: {terminal_safe(self.format_message(), single_line=True)}",
                   err=True)


class _UsageError(click.UsageError):
    """A bad option or argument: the reason on the first line, then click's usage line."""

    def show(self, file: Any = None) -> None:
        command = self.ctx.command_path if self.ctx is not None else "search"
        reason = terminal_safe(self.format_message(), single_line=True)
        click.echo(f"{command}: {reason}", err=True)
        if self.ctx is not None:
            usage = self.ctx.get_usage().removeprefix("Usage: ")
            click.echo(f"usage: {usage} (see '{command} --help')", err=True)


class _Group(click.Group):
    """A command group whose usage errors put the one-line reason first (see _UsageError)."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            raise _one_line(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _one_line(exc) from None


def _one_line(exc: click.UsageError) -> click.UsageError:
    if isinstance(exc, _UsageError):
        return exc
    return _UsageError(exc.format_message(), exc.ctx)


def _handle_errors(func: F) -> F:
    """Turn library errors into one-line messages with exit status 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SearchlibError as exc:
            raise UserError(str(exc)) from None
        except click.ClickException:
            raise  # already a one-line message (UserError, bad option)
        except KeyboardInterrupt:
            click.echo("search: interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:
            # The reader (head, less) went away: stop quietly, as other Unix tools do.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)
        except OSError as exc:
            raise UserError(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")) from None
        except Exception as exc:
            # Last resort: a bug must still end in one line, not a traceback, unless asked.
            if os.environ.get("SEARCHLIB_DEBUG"):
                raise
            raise UserError(f"internal error: {type(exc).__name__}: {exc} "
                            "(set SEARCHLIB_DEBUG=1 for details)") from None

    return wrapper  # type: ignore[return-value]


def _index_option(func: F) -> F:
    return click.option(
        "--index", "index_dir", metavar="DIR", default=None,
        help="Index directory (default: $SEARCH_INDEX, the config file, or ./index).")(func)


def _use_color(choice: str) -> bool:
    if choice == "always":
        return True
    if choice == "never":
        return False
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _open(index_dir: str | None) -> Index:
    from .config import load_config, resolve_index_dir
    from .search import open_index

    config = load_config()
    # Each command makes one search or lookup and exits: no numpy import in the background.
    return open_index(resolve_index_dir(index_dir, config=config), gazetteer=config.gazetteer,
                      warm=False)


def _date(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _echo_json(data: Any) -> None:
    click.echo(json_terminal_safe(json.dumps(data, ensure_ascii=False, indent=2)))


@click.group(cls=_Group,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="searchlib", prog_name="search")
def cli() -> None:
    """Search collections of news articles from the terminal.

    \b
    Example:
      search index seeds/            # build ./index from the bundled articles
      search query "missile strike" --actor IRGC --from 2017
    """


# --- index ---------------------------------------------------------------------------------

@cli.command("index")
@click.argument("paths", nargs=-1, type=click.Path())
@_index_option
@click.option("--rebuild", is_flag=True, help="Discard the index and build it again.")
@click.option("--gazetteer", "gazetteer", multiple=True, type=click.Path(dir_okay=False),
              help="Extra gazetteer YAML layered over the shipped one (repeatable).")
@click.option("--rules", "rules", multiple=True, type=click.Path(dir_okay=False),
              help="Extra cleaning-rules YAML layered over the shipped one (repeatable).")
@click.option("--procs", type=click.IntRange(1, 64), default=None,
              help="Worker processes (default: number of CPUs).")
@click.option("--max-size", type=click.IntRange(1, 10_000), default=10, show_default=True,
              help="Skip files larger than this many MiB (after decompression).")
@click.option("--max-seconds", type=click.FloatRange(0.1, 86_400), default=10, show_default=True,
              help="Skip a file that takes more than this much CPU time to process.")
@click.option("--follow-symlinks", is_flag=True,
              help="Also index links to files outside the folders given.")
@click.option("--wait", is_flag=True, help="Wait for another indexer to finish instead of failing.")
@click.option("--manifest", type=click.Path(dir_okay=False, exists=True), default=None,
              help="CSV or JSONL of path, published, url, source: dates files in bulk.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.option("--engine", type=click.Choice(["whoosh", "opensearch"]), default=None,
              help="Where the documents live (default: as recorded in the index, else whoosh).")
@click.option("--opensearch-url", metavar="URL", default=None,
              help="The cluster; several nodes separated by commas (default: "
                   "$SEARCH_OPENSEARCH_URL, the config file, or as recorded). Credentials "
                   "come from the environment or the config file.")
@click.option("--opensearch-index", metavar="NAME", default=None,
              help="The OpenSearch index name (default: the config file, as recorded, or "
                   "searchlib).")
@_handle_errors
def index_cmd(paths: tuple[str, ...], index_dir: str | None, rebuild: bool,
              gazetteer: tuple[str, ...], rules: tuple[str, ...], procs: int | None,
              max_size: int, max_seconds: float, follow_symlinks: bool, wait: bool,
              manifest: str | None, as_json: bool, engine: str | None,
              opensearch_url: str | None, opensearch_index: str | None) -> None:
    """Build or update the index from files and folders (default: seeds/).

    Only added, changed and removed files are processed; --rebuild starts over.

    \b
    Example:
      search index ~/articles --index ~/articles-index
    """
    from .build import build_index
    from .config import load_config, resolve_index_dir

    config = load_config()
    target = resolve_index_dir(index_dir, config=config)
    sources = list(paths) or _recorded_sources(target)
    for source in sources:
        if not os.path.exists(source):
            if paths:
                raise UserError(f"{source}: no such file or directory")
            raise UserError(f"{source}, a folder the index at {target} was built from, no "
                            "longer exists; name the folders to index: `search index PATH "
                            f"--index {target} --rebuild`")
    options: dict[str, Any] = dict(
        procs=procs, gazetteer=[*config.gazetteer, *gazetteer],
        cleaning_rules=[*config.cleaning_rules, *rules], max_bytes=max_size * 1024 * 1024,
        wait=wait, max_seconds=max_seconds, follow_symlinks=follow_symlinks, manifest=manifest)
    if _index_engine(engine, target, opensearch_url, opensearch_index) == "opensearch":
        _index_opensearch(sources, target, rebuild, opensearch_url, opensearch_index,
                          as_json, options)
        return
    progress, finish = _progress_reporter()
    try:
        summary = build_index(sources, target, rebuild=rebuild, progress=progress, **options)
    finally:
        finish()
    if as_json:
        _echo_json(_summary_json(summary))
    else:
        _print_summary(summary, str(target))


# --- index: the OpenSearch engine (issue 17) ------------------------------------------------

def _index_engine(engine: str | None, target: Any, url: str | None, name: str | None) -> str:
    """The engine to index with: the option, else the one the index folder records."""
    from .engine.opensearch.record import read_engine_record

    recorded = read_engine_record(target)
    chosen = engine or (recorded.engine if recorded else "whoosh")
    if chosen == "whoosh" and recorded is not None:
        raise UserError(f"the index at {target} lives in OpenSearch ({recorded.url}, index "
                        f"{recorded.index}); index it into a new folder to use Whoosh")
    if chosen == "whoosh" and (url or name):
        raise UserError("--opensearch-url and --opensearch-index need --engine opensearch")
    return chosen


def _index_opensearch(sources: list[str], target: Any, rebuild: bool, url: str | None,
                      name: str | None, as_json: bool, options: dict[str, Any]) -> None:
    """``search index --engine opensearch``: the pipeline, then the cluster's ``_bulk``."""
    from .config import load_config
    from .engine.opensearch import DEFAULT_INDEX_NAME, connection_settings
    from .engine.opensearch.ingest import check_index_name, ingest_opensearch
    from .engine.opensearch.record import read_engine_record

    recorded = read_engine_record(target)
    config = load_config().opensearch
    settings = connection_settings(url or os.environ.get("SEARCH_OPENSEARCH_URL")
                                   or config.get("url") or (recorded.url if recorded else None))
    index_name = check_index_name(name or config.get("index")
                                  or (recorded.index if recorded else DEFAULT_INDEX_NAME))
    progress, finish = _progress_reporter()
    try:
        result = ingest_opensearch(sources, target, settings, index_name, rebuild=rebuild,
                                   progress=progress, **options)
    finally:
        finish()
    for doc_id, reason in result.failed[:20]:
        click.echo(f"  not indexed {doc_id}: {terminal_safe(reason, single_line=True)}",
                   err=True)
    if as_json:
        _echo_json({**_summary_json(result.build), "engine": "opensearch", "url": result.url,
                    "opensearch_index": result.index, "sent": result.sent,
                    "deleted": result.deleted, "resent": result.resent,
                    "failed": [{"id": i, "reason": r} for i, r in result.failed]})
    else:
        _print_summary(result.build, str(target))
        click.echo(f"opensearch {result.url} index {result.index}: {result.sent} sent, "
                   f"{result.deleted} deleted, {len(result.failed)} failed")
    if result.failed:
        raise UserError(f"{len(result.failed)} document(s) were not indexed by OpenSearch "
                        "(listed above); run the same command again to retry them")


def _recorded_sources(target: Any) -> list[str]:
    """The folders the index at ``target`` was built from (``seeds`` for a new index)."""
    from .layout import has_index_files, recorded_sources

    recorded = recorded_sources(target)
    if recorded:
        return recorded
    if has_index_files(target):
        # Never fall back to ./seeds for an existing index: that would silently replace it
        # with whatever ./seeds holds.
        raise UserError(f"the index at {target} no longer records which folders it was built "
                        "from (meta.json and manifest.json are damaged); name them: "
                        f"`search index PATH --index {target} --rebuild`")
    return ["seeds"]


def _progress_reporter() -> tuple[Callable[[int, int], None] | None, Callable[[], None]]:
    """A progress bar with docs/s and ETA on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None, lambda: None
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TaskProgressColumn(), TextColumn("{task.fields[rate]}"),
                   TimeRemainingColumn(), console=Console(stderr=True), transient=True)
    state: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if "task" not in state:
            bar.start()
            state["task"] = bar.add_task("reading", total=total, rate="")
        task = bar.tasks[0]
        rate = f"{task.speed:,.0f} files/s" if task.speed else ""
        # Once every file is read, the last batch is still being written to the index.
        phase = "writing the index" if done >= total else "reading"
        bar.update(state["task"], completed=done, total=total, rate=rate, description=phase)

    def finish() -> None:
        if "task" in state:
            bar.stop()

    return update, finish


def _summary_json(summary: IndexSummary) -> dict[str, Any]:
    return {"added": summary.added, "updated": summary.updated, "removed": summary.removed,
            "unchanged": summary.unchanged, "reextracted": summary.reextracted,
            "duplicates": summary.duplicates,
            "skipped": [{"path": s.path, "reason": s.reason} for s in summary.skipped],
            "seconds": round(summary.elapsed, 3)}


def _print_summary(summary: IndexSummary, target: str) -> None:
    click.echo(f"index {terminal_safe(target, single_line=True)}: {summary.added} added, "
               f"{summary.updated} updated, {summary.removed} removed, "
               f"{summary.unchanged} unchanged, {summary.duplicates} duplicates, "
               f"{len(summary.skipped)} skipped ({summary.elapsed:.1f}s)")
    if summary.reextracted:
        click.echo(f"  re-extracted {summary.reextracted} "
                   f"article{'s' if summary.reextracted != 1 else ''} whose files did not "
                   "change: the gazetteer, cleaning rules or extractor changed since the last "
                   "build")
    for skipped in summary.skipped[:20]:
        click.echo(f"  skipped {terminal_safe(skipped.path, single_line=True)}: "
                   f"{terminal_safe(skipped.reason, single_line=True)}", err=True)
    if len(summary.skipped) > 20:
        click.echo(f"  ... and {len(summary.skipped) - 20} more (see --json)", err=True)


# --- query ---------------------------------------------------------------------------------

def _filter_options(func: F) -> F:
    options = [
        click.option("--actor", "actors", multiple=True, metavar="NAME",
                     help="Only articles mentioning this actor (repeatable: any of them)."),
        click.option("--location", "locations", multiple=True, metavar="NAME",
                     help="Only articles mentioning this place (repeatable)."),
        click.option("--person", "people", multiple=True, metavar="NAME",
                     help="Only articles mentioning this person (repeatable)."),
        click.option("--from", "date_from", metavar="DATE",
                     help="Published on or after YYYY, YYYY-MM or YYYY-MM-DD."),
        click.option("--to", "date_to", metavar="DATE",
                     help="Published on or before YYYY, YYYY-MM or YYYY-MM-DD."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


_FORMATS = ("text", "json", "jsonl", "csv", "markdown", "cite")
_CITE_FORMATS = ("jsonl", "csv", "markdown", "cite")


@cli.command("query")
@click.argument("query", required=False)
@_index_option
@_filter_options
@click.option("--limit", "-n", type=click.IntRange(1, 10_000), default=10, show_default=True,
              help="Hits per page.")
@click.option("--page", type=click.IntRange(1), default=1, show_default=True, help="Page number.")
@click.option("--sort", type=click.Choice(["relevance", "date", "newest", "oldest"]),
              default="relevance", show_default=True,
              help="Order: relevance, or by date (date = newest first).")
@click.option("--facets", "show_facets", is_flag=True, help="Also print the top facet values.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default=None,
              help="text (default), json (= --json), jsonl, csv, markdown, or cite (one "
              "citation per line, with the quoted sentence's offsets in the stored text).")
@click.option("--no-collapse", "no_collapse", is_flag=True,
              help="List near-duplicate articles one by one (default: one hit, +N copies).")
@click.option("--saved", "saved_name", metavar="NAME",
              help="Run the saved search NAME (see `search save`) instead of QUERY.")
@click.option("--new-since", "new_since", metavar="last|DATE",
              help="Only articles added to the index since DATE, or with 'last' since the "
              "previous --new-since last run of the --saved search.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto",
              show_default=True, help="Colour matches (auto: on a terminal, unless NO_COLOR).")
@_handle_errors
def query_cmd(query: str | None, index_dir: str | None, actors: tuple[str, ...],
              locations: tuple[str, ...], people: tuple[str, ...], date_from: str | None,
              date_to: str | None, limit: int, page: int, sort: str, show_facets: bool,
              as_json: bool, fmt: str | None, no_collapse: bool, saved_name: str | None,
              new_since: str | None, color: str) -> None:
    """Search the index; exit status 0 with hits, 1 without, 2 on error.

    QUERY uses the query language: words, "phrases"~slop, AND/OR/NOT, -word, wild*, fuzzy~,
    fields (title: body: actor: location: person: date:) and ranges (date:[2017 TO 2018-06]).

    \b
    Example:
      search query "missile strike" --actor IRGC --location Syria --from 2017-06
      search query 'date:>2020 ISIS-K' --json | jq '.hits[].title'
      search query "missile strike" --format cite -n 5
      search query --saved iran-isis --new-since last --json
    """
    fmt = _output_format(fmt, as_json)
    watch = _Watch.resolve(query, saved_name, new_since, index_dir,
                           bool(actors or locations or people or date_from or date_to))
    if watch.search is not None:
        saved = watch.search
        query, actors, locations, people = (saved.query, saved.actors, saved.locations,
                                            saved.people)
        date_from, date_to, sort = saved.date_from, saved.date_to, saved.sort
    assert query is not None
    with _open(index_dir) as ix:
        results = ix.search(query, limit=limit, page=page, sort=sort,  # type: ignore[arg-type]
                            actors=actors, locations=locations, people=people,
                            date_from=date_from, date_to=date_to,
                            facets=fmt == "json" or show_facets,
                            ids=watch.ids(ix.path), collapse=not no_collapse)
        citations = _citations(ix, results) if fmt in _CITE_FORMATS else ()
    for warning in results.warnings:
        click.echo(f"search: warning: {terminal_safe(warning, single_line=True)}", err=True)
    if results.total and not results.hits:
        last = -(-results.total // limit)
        click.echo(f"search: page {page} is past the last page ({last:,} page"
                   f"{'s' if last != 1 else ''} of {limit} for {results.total:,} results)",
                   err=True)
    if fmt == "json":
        _echo_json({**_results_json(results), **watch.json()})
    elif fmt in _CITE_FORMATS:
        _print_citations(fmt, citations, query)
    else:
        _print_results(results, _use_color(color), show_facets)
    watch.done()
    sys.exit(0 if results.total else 1)


def _output_format(fmt: str | None, as_json: bool) -> str:
    if as_json and fmt not in (None, "json"):
        raise click.UsageError(f"--json and --format {fmt} disagree; give one of them")
    return "json" if as_json else fmt or "text"


def _citations(ix: Index, results: SearchResults) -> Any:
    from .cite import cite_results

    return cite_results(ix, results)


def _print_citations(fmt: str, citations: Any, query: str) -> None:
    from .cite import format_cite, format_markdown, write_csv, write_jsonl

    if fmt == "jsonl":
        click.echo(json_terminal_safe(write_jsonl(citations)), nl=False)
    elif fmt == "csv":
        click.echo(terminal_safe(write_csv(citations)), nl=False)
    elif fmt == "markdown":
        click.echo(terminal_safe(format_markdown(citations, query)))
    else:
        for c in citations:
            click.echo(terminal_safe(format_cite(c), single_line=True))


class _Watch:
    """What --saved and --new-since ask of one `search query` run."""

    def __init__(self, search: Any, name: str | None, since: Any, last: bool,
                 store: Any) -> None:
        self.search = search
        self.name = name
        self.since = since
        self.last = last
        self.store = store
        self.checked_at: Any = None

    @classmethod
    def resolve(cls, query: str | None, saved_name: str | None, new_since: str | None,
                index_dir: str | None, filtered: bool) -> _Watch:
        if saved_name is None:
            if query is None:
                raise click.UsageError("Missing argument 'QUERY' (or --saved NAME)")
            if new_since is not None and new_since.strip().lower() == "last":
                raise click.UsageError("--new-since last needs --saved NAME (the search "
                                       "whose last run it means)")
            since = _parse_since(new_since) if new_since is not None else None
            return cls(None, None, since, False, None)
        if query is not None or filtered:
            raise click.UsageError("--saved runs the search as saved: give no QUERY and no "
                                   "filters (save a new search to change them)")
        from .config import resolve_index_dir
        from .saved import SavedSearches

        store = SavedSearches(resolve_index_dir(index_dir))
        search = store.get(saved_name)
        last = new_since is not None and new_since.strip().lower() == "last"
        since = search.last_checked if last else \
            _parse_since(new_since) if new_since is not None else None
        return cls(search, saved_name, since, last, store)

    def ids(self, index_path: Any) -> set[str] | None:
        """The ids of the articles new since the chosen time (None: no restriction)."""
        import datetime as dt

        from .arrivals import added_since

        if self.last:
            # Taken before searching: what arrives during this run is new for the next one.
            self.checked_at = dt.datetime.now(dt.UTC)
        return added_since(index_path, self.since) if self.since is not None else None

    def json(self) -> dict[str, Any]:
        """Keys added to --json output."""
        out: dict[str, Any] = {}
        if self.name is not None:
            out["saved"] = self.name
        if self.since is not None or self.last:
            out["new_since"] = self.since.isoformat() if self.since is not None else None
        return out

    def done(self) -> None:
        """After a successful run: remember it as the last check of the saved search."""
        if self.last and self.store is not None and self.name is not None:
            self.store.mark_checked(self.name, self.checked_at)


def _parse_since(text: str) -> Any:
    from .saved import parse_since

    return parse_since(text)


def _hit_json(hit: Hit) -> dict[str, Any]:
    return {"id": hit.id, "path": hit.path, "title": hit.title,
            "published": _date(hit.published), "published_source": hit.published_source,
            "actors": list(hit.actors),
            "locations": list(hit.locations), "people": list(hit.people),
            "score": round(hit.score, 4), "snippet": hit.snippet,
            "highlights": [list(span) for span in hit.highlights], "copies": list(hit.copies)}


def _results_json(results: SearchResults) -> dict[str, Any]:
    return {"query": results.query, "total": results.total, "page": results.page,
            "limit": results.limit, "hits": [_hit_json(h) for h in results.hits],
            "facets": {k: dict(v) for k, v in results.facets.items()},
            "suggestion": results.suggestion, "warnings": list(results.warnings)}


def _highlight(snippet: str, spans: Sequence[tuple[int, int]], color: bool) -> str:
    if not color:
        return terminal_safe(snippet)
    out, pos = [], 0
    for start, end in spans:
        out.append(terminal_safe(snippet[pos:start]))
        out.append(click.style(terminal_safe(snippet[start:end]), fg="yellow", bold=True))
        pos = end
    out.append(terminal_safe(snippet[pos:]))
    return "".join(out)


def _print_results(results: SearchResults, color: bool, show_facets: bool) -> None:
    shown_to = (results.page - 1) * results.limit + len(results.hits)
    header = (f"{results.total} result{'s' if results.total != 1 else ''} for "
              f"{terminal_safe(results.query, single_line=True)!r}")
    if results.hits:
        header += f" (showing {results.hits[0].rank}-{shown_to})"
    header += f" in {results.elapsed * 1000:.0f} ms"
    click.echo(click.style(header, dim=True) if color else header, color=color)
    if results.suggestion:
        line = f"Did you mean: {terminal_safe(results.suggestion, single_line=True)}"
        click.echo(click.style(line, fg="cyan") if color else line, color=color)
    for hit in results.hits:
        date = hit.published.isoformat() if hit.published else "undated"
        title = terminal_safe(hit.title, single_line=True)
        click.echo("", color=color)
        click.echo(f"{hit.rank:>3}. " + (click.style(title, bold=True) if color else title)
                   + f"  ({date})", color=color)
        meta = f"     {terminal_safe(hit.path, single_line=True)}  id {hit.id}"
        if hit.copies:
            meta += f"  +{len(hit.copies)} cop{'y' if len(hit.copies) == 1 else 'ies'}"
        click.echo(click.style(meta, dim=True) if color else meta, color=color)
        # Who: the actors, then the people (both are "who" to a reader scanning hits).
        who = ", ".join([*hit.actors[:4], *hit.people[:3]])
        where = ", ".join(hit.locations[:5])
        if who or where:
            line = terminal_safe(f"     who: {who or '-'} · where: {where or '-'}",
                                 single_line=True)
            click.echo(click.style(line, fg="green") if color else line, color=color)
        snippet = _highlight(hit.snippet, hit.highlights, color).replace("\n", " ")
        click.echo("     " + snippet, color=color)
    if show_facets:
        click.echo("", color=color)
        for kind, counts in results.facets.items():
            if kind in ("month", "mentioned") or not counts:
                continue
            top = sorted(counts.items(), key=lambda kv: -kv[1])[:8] if kind != "year" else \
                list(counts.items())
            values = ", ".join(f"{terminal_safe(k, single_line=True)} ({v})" for k, v in top)
            click.echo(f"{kind}: {values}", color=color)


# --- saved searches ------------------------------------------------------------------------

@cli.command("save")
@click.argument("name")
@click.argument("query")
@_index_option
@_filter_options
@click.option("--sort", type=click.Choice(["relevance", "date", "newest", "oldest"]),
              default="relevance", show_default=True, help="Order of the results.")
@click.option("--force", is_flag=True, help="Replace a saved search of the same name.")
@_handle_errors
def save_cmd(name: str, query: str, index_dir: str | None, actors: tuple[str, ...],
             locations: tuple[str, ...], people: tuple[str, ...], date_from: str | None,
             date_to: str | None, sort: str, force: bool) -> None:
    """Save QUERY and its filters as NAME, to run with `search query --saved NAME`.

    The query is checked against the index first. Saved searches are kept per index under
    $XDG_STATE_HOME/searchlib ($SEARCHLIB_STATE_DIR overrides).

    \b
    Example:
      search save iran-isis "ISIS attack" --actor IRGC --location Iran
      search query --saved iran-isis --new-since last --json   # from cron: what is new
    """
    from .config import resolve_index_dir
    from .saved import SavedSearch, SavedSearches

    with _open(index_dir) as ix:
        # A typo is reported now, not at 3 a.m. by the cron job that runs it.
        checked = ix.search(query, limit=1, sort=sort,  # type: ignore[arg-type]
                            actors=actors, locations=locations, people=people,
                            date_from=date_from, date_to=date_to, snippets=False,
                            facets=False)
    for warning in checked.warnings:
        click.echo(f"search: warning: {terminal_safe(warning, single_line=True)}", err=True)
    stored = SavedSearches(resolve_index_dir(index_dir)).save(
        SavedSearch(name, query, actors, locations, people, date_from, date_to, sort),
        replace_existing=force)
    click.echo(f"saved {stored.name}: {checked.total} article(s) match now", err=True)


@cli.command("saved")
@_index_option
@click.option("--delete", "delete", metavar="NAME", multiple=True,
              help="Delete the saved search NAME (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_handle_errors
def saved_cmd(index_dir: str | None, delete: tuple[str, ...], as_json: bool) -> None:
    """List the saved searches of the index (or delete some with --delete).

    \b
    Example:
      search saved
      search saved --delete iran-isis
    """
    from .config import resolve_index_dir
    from .saved import SavedSearches

    store = SavedSearches(resolve_index_dir(index_dir))
    for name in delete:
        store.delete(name)
        click.echo(f"deleted {name}", err=True)
    if delete:
        return
    searches = store.list()
    if as_json:
        _echo_json([s.to_json() for s in searches])
        return
    safe = functools.partial(terminal_safe, single_line=True)
    if not searches:
        click.echo("no saved searches (see `search save --help`)", err=True)
    for s in searches:
        filters = " ".join(
            [f"--actor {_shell_quote(v)}" for v in s.actors]
            + [f"--location {_shell_quote(v)}" for v in s.locations]
            + [f"--person {_shell_quote(v)}" for v in s.people]
            + ([f"--from {s.date_from}"] if s.date_from else [])
            + ([f"--to {s.date_to}"] if s.date_to else [])
            + ([f"--sort {s.sort}"] if s.sort != "relevance" else []))
        checked = s.last_checked.isoformat(timespec="seconds") if s.last_checked else "never"
        click.echo(f"{safe(s.name)}: {safe(_shell_quote(s.query))}"
                   f"{' ' + safe(filters) if filters else ''}  (last checked: {checked})")


def _shell_quote(text: str) -> str:
    """Quote ``text`` for a shell command line (as the user would retype it)."""
    import shlex

    return shlex.quote(text)


# --- open ----------------------------------------------------------------------------------

@cli.command("open")
@click.argument("doc_id")
@_index_option
@click.option("--query", "-q", "query", metavar="QUERY",
              help="Start the editor at the line of this query's first match.")
@click.option("--line", type=click.IntRange(1), default=None,
              help="Start the editor at this line.")
@click.option("--system", "system", is_flag=True,
              help="Use the system opener (xdg-open, open) even when $EDITOR is set.")
@click.option("--print", "print_only", is_flag=True,
              help="Print the command (or the URL) instead of running it.")
@_handle_errors
def open_cmd(doc_id: str, index_dir: str | None, query: str | None, line: int | None,
             system: bool, print_only: bool) -> None:
    """Open an article's source file in $VISUAL/$EDITOR or the system opener.

    Editors that take +LINE (vi, vim, nvim, nano, emacs, micro, kak, ...) start at --line or
    at the first match of --query. When the file is gone and the article has a URL, the URL
    is printed (never opened). Nothing from the article is run or passed to a shell.

    \b
    Example:
      search open 3f9c2a1b4d5e6f70 --query "missile strike"
      search open 3f9c2a1b4d5e6f70 --system
    """
    import shlex

    from .opener import hit_line, plan_open, run_plan, source_file

    if query is not None and line is not None:
        raise click.UsageError("give --query or --line, not both")
    with _open(index_dir) as ix:
        try:
            article = ix.get(doc_id)
        except KeyError:
            raise UserError(f"no article with id {doc_id!r} in this index") from None
        if query is not None:
            found = ix.search(query, ids=[doc_id], limit=1, facets=False)
            path = source_file(article.path)
            if found.hits and path:
                hit = found.hits[0]
                line = hit_line(path, article.text, hit.snippet, hit.highlights)
    plan = plan_open(article, line=line, editor=not system)
    if plan.kind == "url":
        click.echo(terminal_safe(plan.url or "", single_line=True))
        if not print_only:
            click.echo("search: the source file is gone; this is the article's URL", err=True)
        return
    if print_only:
        click.echo(terminal_safe(shlex.join(plan.argv), single_line=True))
        return
    status = run_plan(plan)
    if status != 0:
        raise UserError(f"{plan.argv[0]} exited with status {status}")


# --- show / similar ------------------------------------------------------------------------

@cli.command("show")
@click.argument("doc_id")
@_index_option
@click.option("--json", "as_json", is_flag=True, help="Print the article and all metadata as JSON.")
@_handle_errors
def show_cmd(doc_id: str, index_dir: str | None, as_json: bool) -> None:
    """Print one cleaned article with its metadata and extracted entities.

    \b
    Example:
      search show 3f9c2a1b4d5e6f70
    """
    with _open(index_dir) as ix:
        try:
            article = ix.get(doc_id)
        except KeyError:
            raise UserError(f"no article with id {doc_id!r} in this index") from None
    if as_json:
        from .models import article_dict

        _echo_json(article_dict(article))
        return
    safe = functools.partial(terminal_safe, single_line=True)
    click.echo(click.style(safe(article.title), bold=True))
    if article.subtitle:
        click.echo(safe(article.subtitle))
    facts = [("id", article.id), ("path", article.path),
             ("published", f"{article.published.isoformat()} (from {article.published_source})"
              if article.published and article.published_source
              else _date(article.published) or "undated"),
             ("authors", ", ".join(article.authors)), ("url", article.url or ""),
             ("source", article.source or ""), ("actors", ", ".join(article.actors)),
             ("locations", ", ".join(article.locations)), ("people", ", ".join(article.people)),
             ("dates mentioned", ", ".join(d.isoformat() for d in article.mentioned_dates)),
             ("duplicates", ", ".join(article.duplicates)),
             ("near copies", ", ".join(article.near_duplicates))]
    for name, value in facts:
        if value:
            click.echo(f"{name + ':':<17}{safe(value)}")
    if article.mentions:
        click.echo("entities:")
        seen: dict[tuple[str, str], list[str]] = {}
        for m in article.mentions:
            seen.setdefault((m.facet, m.name), []).append(f"{m.surface!r}@{m.start}-{m.end}")
        for (facet, name), spans in seen.items():
            more = f" (+{len(spans) - 4} more)" if len(spans) > 4 else ""
            click.echo(f"  {facet:<9}{safe(name)} <- {safe(', '.join(spans[:4]))}{more}")
    click.echo("")
    click.echo(terminal_safe(article.text))


@cli.command("similar")
@click.argument("doc_id")
@_index_option
@click.option("--limit", "-n", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_handle_errors
def similar_cmd(doc_id: str, index_dir: str | None, limit: int, as_json: bool) -> None:
    """List articles most like DOC_ID (by its key terms), exact duplicates excluded.

    \b
    Example:
      search similar 3f9c2a1b4d5e6f70 -n 5
    """
    with _open(index_dir) as ix:
        try:
            hits = ix.similar(doc_id, limit=limit)
        except KeyError:
            raise UserError(f"no article with id {doc_id!r} in this index") from None
    if as_json:
        _echo_json({"id": doc_id, "hits": [_hit_json(h) for h in hits]})
    else:
        for hit in hits:
            date = hit.published.isoformat() if hit.published else "undated"
            click.echo(f"{hit.rank:>3}. {terminal_safe(hit.title, single_line=True)}  ({date})"
                       f"  id {hit.id}  score {hit.score:.2f}")
    sys.exit(0 if hits else 1)


@cli.command("duplicates")
@_index_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_handle_errors
def duplicates_cmd(index_dir: str | None, as_json: bool) -> None:
    """List the groups of near-duplicate articles (wire copies, re-posts, re-saved pages).

    The first article of a group (the earliest published) stands for it in search results,
    with "+N copies"; `search query --no-collapse` lists every one.

    \b
    Example:
      search duplicates
      search duplicates --json | jq '.[] | .articles | length'
    """
    with _open(index_dir) as ix:
        groups = []
        for ids in ix.near_duplicate_groups():
            articles = [ix.get(i) for i in ids]
            groups.append([{"id": a.id, "title": a.title, "published": _date(a.published),
                            "path": a.path} for a in articles])
    if as_json:
        _echo_json([{"articles": g} for g in groups])
        return
    safe = functools.partial(terminal_safe, single_line=True)
    for number, members in enumerate(groups, 1):
        click.echo(f"group {number}: {len(members)} articles")
        for m in members:
            click.echo(f"  {m['id']}  {m['published'] or 'undated':<10}  "
                       f"{safe(str(m['title']))}")
            click.echo(f"  {'':16}  {'':10}  {safe(str(m['path']))}")
    click.echo(f"{len(groups)} group(s) of near-duplicate articles", err=True)


# --- stats / facets / gazetteer ------------------------------------------------------------

@cli.command("stats")
@_index_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_handle_errors
def stats_cmd(index_dir: str | None, as_json: bool) -> None:
    """Show document count, size on disk, last update and skipped files.

    \b
    Example:
      search stats --json
    """
    with _open(index_dir) as ix:
        stats = ix.stats()
        skipped = ix.skipped
    data = {"path": stats.path, "documents": stats.documents, "size_bytes": stats.size_bytes,
            "last_update": stats.last_update.isoformat() if stats.last_update else None,
            "skipped": stats.skipped, "sources": list(stats.sources)}
    if as_json:
        data["skipped_files"] = [{"path": s.path, "reason": s.reason} for s in skipped]
        _echo_json(data)
        return
    safe = functools.partial(terminal_safe, single_line=True)
    click.echo(f"index:        {safe(stats.path)}")
    click.echo(f"documents:    {stats.documents}")
    click.echo(f"size:         {stats.size_bytes / 1024 / 1024:.1f} MiB")
    click.echo(f"last update:  {data['last_update'] or 'never'}")
    click.echo(f"sources:      {safe(', '.join(stats.sources))}")
    click.echo(f"skipped:      {stats.skipped} file(s)")
    for item in skipped[:20]:
        click.echo(f"  {safe(item.path)}: {safe(item.reason)}")


@cli.command("facets")
@_index_option
@click.option("--kind", type=click.Choice(FACET_KINDS),
              multiple=True, help="Only this facet kind (repeatable; default: all).")
@click.option("--limit", "-n", type=click.IntRange(0), default=0,
              help="At most this many values per kind (0: all).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_handle_errors
def facets_cmd(index_dir: str | None, kind: tuple[str, ...], limit: int, as_json: bool) -> None:
    """List every facet value with its document count.

    \b
    Example:
      search facets --kind actor --kind location -n 20
    """
    kinds = kind or FACET_KINDS
    with _open(index_dir) as ix:
        data = {k: ix.facet_values(k) for k in kinds}
    if limit:
        data = {k: dict(list(v.items())[:limit]) for k, v in data.items()}
    if as_json:
        _echo_json(data)
        return
    for name, counts in data.items():
        click.echo(f"{name}:")
        for value, count in counts.items():
            click.echo(f"  {count:>6}  {terminal_safe(value, single_line=True)}")


@cli.group("gazetteer", cls=_Group)
def gazetteer_group() -> None:
    """Inspect the gazetteer of actors, places and people."""


@gazetteer_group.command("gaps")
@_index_option
@click.option("--limit", "-n", type=click.IntRange(1), default=50, show_default=True)
@click.option("--min-count", type=click.IntRange(1), default=2, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_handle_errors
def gaps_cmd(index_dir: str | None, limit: int, min_count: int, as_json: bool) -> None:
    """List frequent capitalised phrases in the corpus the gazetteer does not know.

    Add the useful ones to a gazetteer file and pass it with --gazetteer (or the config).

    \b
    Example:
      search gazetteer gaps -n 30
    """
    from .ingest.gaps import gazetteer_gaps

    with _open(index_dir) as ix:
        texts = (a.title + "\n\n" + a.text for a in ix.articles())
        gaps = gazetteer_gaps(texts, ix.gazetteer, limit=limit, min_count=min_count)
    if as_json:
        _echo_json([{"phrase": p, "count": c} for p, c in gaps])
        return
    for phrase, count in gaps:
        click.echo(f"{count:>6}  {terminal_safe(phrase, single_line=True)}")


@cli.command("export")
@click.argument("out", type=click.Path())
@_index_option
@click.option("--format", "fmt", type=click.Choice(["opensearch", "jsonl"]), default="opensearch",
              show_default=True, help="opensearch: mapping + NDJSON bulk files in OUT (a "
              "directory); jsonl: one article per line in OUT (a file).")
@click.option("--chunk-mb", type=click.IntRange(1, 100), default=10, show_default=True,
              help="Maximum size of one bulk file.")
@_handle_errors
def export_cmd(out: str, index_dir: str | None, fmt: str, chunk_mb: int) -> None:
    """Export the cleaned, enriched articles (for OpenSearch/Elasticsearch or other tools).

    \b
    Example:
      search export --format opensearch os-out/
      curl -XPUT localhost:9200/news -H 'Content-Type: application/json' -d @os-out/mapping.json
      for f in os-out/bulk-*.ndjson; do curl -XPOST localhost:9200/news/_bulk \\
        -H 'Content-Type: application/x-ndjson' --data-binary @$f; done
    """
    from .export import export_jsonl, export_opensearch, index_records

    with _open(index_dir) as ix:
        records = index_records(ix)
        if fmt == "opensearch":
            summary = export_opensearch(records, out, chunk_bytes=chunk_mb * 1024 * 1024)
        else:
            summary = export_jsonl(records, out)
    click.echo(f"exported {summary.documents} articles to {len(summary.files)} file(s), "
               f"{summary.bytes / 1024 / 1024:.1f} MiB in {terminal_safe(out, single_line=True)}",
               err=True)


@cli.command("doctor")
@_index_option
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@_handle_errors
def doctor_cmd(index_dir: str | None, as_json: bool) -> None:
    """Check that the install is whole: versions in use, and every path actually working.

    Runs the engine, the HTML extractor, date detection, numpy and the gazetteer on small
    samples, then opens the index if there is one. Exit status 0 when every required check
    passes, 2 when one fails (its line says what to install or run).

    \b
    Example:
      search doctor
    """
    from .config import resolve_index_dir
    from .doctor import diagnose

    checks = diagnose(resolve_index_dir(index_dir))
    broken = [c for c in checks if c.required and not c.ok]
    if as_json:
        _echo_json({"ok": not broken, "checks": [
            {"name": c.name, "ok": c.ok, "required": c.required, "version": c.version,
             "detail": c.detail} for c in checks]})
    else:
        safe = functools.partial(terminal_safe, single_line=True)
        for check in checks:
            state = "ok" if check.ok else "FAIL" if check.required else "note"
            click.echo(f"{state:<5} {check.name:<15} {safe(check.version):<26} "
                       f"{safe(check.detail)}")
    sys.exit(2 if broken else 0)


@cli.command("tui")
@_index_option
@_handle_errors
def tui_cmd(index_dir: str | None) -> None:
    """Open the full-screen terminal UI (search as you type, facets, timeline, reader).

    \b
    Example:
      search tui --index ~/articles-index
    """
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        # Without a terminal Textual cannot read keys and spins at ~80% CPU; say so at once.
        raise UserError("search tui needs a terminal (stdin or stdout is not a TTY); "
                        "in scripts and pipes use `search query`")
    from tui.app import run_app

    run_app(index_dir)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="search")


@cli.command("check")
@_index_option
@click.option("--source", "sources", multiple=True, type=click.Path(),
              help="Compare with these files/folders (default: the ones the index was built from).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@_handle_errors
def check_cmd(index_dir: str | None, sources: tuple[str, ...], as_json: bool) -> None:
    """Read the whole index back and compare it with its manifest and the files on disk.

    On an OpenSearch-engine index, also ask the cluster: its health, the index's mapping,
    and whether its documents are exactly the ones this folder sent (a cluster that cannot
    be reached: one line, exit status 2).

    Exit status 0 when the index is sound, 1 when it is sound but sources changed since the
    last update, 2 when it is damaged (each problem names its fix).

    \b
    Example:
      search check --index ~/articles-index
    """
    from .config import resolve_index_dir
    from .engine.opensearch.record import read_engine_record
    from .engine.whoosh.check import CheckReport, check_index

    target = resolve_index_dir(index_dir)
    recorded = read_engine_record(target)
    report: CheckReport
    cluster: dict[str, Any] = {}
    if recorded is not None:
        from .engine.opensearch.check import check_opensearch

        report = check_opensearch(target, recorded, list(sources) or None)
        cluster = {"engine": "opensearch", "url": report.url,
                   "opensearch_index": report.opensearch_index,
                   "cluster_status": report.cluster_status,
                   "recorded_documents": report.recorded_documents,
                   "local_documents": report.local_documents}
    else:
        report = check_index(target, list(sources) or None)
    if as_json:
        _echo_json({"index": report.index_dir, "ok": report.ok, "up_to_date": report.up_to_date,
                    "documents": report.documents, "segments": report.segments,
                    "manifest_documents": report.manifest_documents,
                    "problems": list(report.problems), "notes": list(report.notes),
                    "missing_sources": list(report.missing_sources),
                    "unindexed_sources": list(report.unindexed_sources),
                    "changed_sources": list(report.changed_sources), **cluster})
    else:
        safe = functools.partial(terminal_safe, single_line=True)
        state = "damaged" if not report.ok else "ok" if report.up_to_date else "ok, out of date"
        click.echo(f"index {safe(report.index_dir)}: {state}")
        if cluster:
            click.echo(f"  {report.documents} documents in OpenSearch index "
                       f"{safe(cluster['opensearch_index'])} at {safe(cluster['url'])} "
                       f"({cluster['cluster_status']}), {cluster['recorded_documents']} "
                       f"recorded as sent, {report.manifest_documents} in the manifest")
        else:
            click.echo(f"  {report.documents} documents in {report.segments} segment(s), "
                       f"{report.manifest_documents} in the manifest")
        for problem in report.problems:
            click.echo(f"  problem: {safe(problem)}")
        for note in report.notes:
            click.echo(f"  note: {safe(note)}")
        for label, paths in (("new", report.unindexed_sources),
                             ("changed", report.changed_sources),
                             ("removed", report.missing_sources)):
            for path in paths[:10]:
                click.echo(f"  {label}: {safe(path)}")
            if len(paths) > 10:
                click.echo(f"  ... and {len(paths) - 10} more {label} (see --json)")
    sys.exit(2 if not report.ok else 0 if report.up_to_date else 1)
