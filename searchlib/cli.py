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
from .textsafe import json_terminal_safe, terminal_safe

if TYPE_CHECKING:
    from .models import Article, Hit, IndexSummary, SearchResults
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
    return open_index(resolve_index_dir(index_dir, config=config), gazetteer=config.gazetteer)


def _date(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _echo_json(data: Any) -> None:
    click.echo(json_terminal_safe(json.dumps(data, ensure_ascii=False, indent=2)))


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
@click.option("--wait", is_flag=True, help="Wait for another indexer to finish instead of failing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@_handle_errors
def index_cmd(paths: tuple[str, ...], index_dir: str | None, rebuild: bool,
              gazetteer: tuple[str, ...], rules: tuple[str, ...], procs: int | None,
              max_size: int, wait: bool, as_json: bool) -> None:
    """Build or update the index from files and folders (default: seeds/).

    Only added, changed and removed files are processed; --rebuild starts over.

    \b
    Example:
      search index ~/articles --index ~/articles-index
    """
    from .config import load_config, resolve_index_dir
    from .index import build_index

    config = load_config()
    target = resolve_index_dir(index_dir, config=config)
    sources = list(paths) or _recorded_sources(target)
    for source in sources:
        if not os.path.exists(source):
            raise UserError(f"{source}: no such file or directory")
    progress, finish = _progress_reporter()
    try:
        summary = build_index(
            sources, target, rebuild=rebuild, procs=procs,
            gazetteer=[*config.gazetteer, *gazetteer],
            cleaning_rules=[*config.cleaning_rules, *rules],
            max_bytes=max_size * 1024 * 1024, progress=progress, wait=wait)
    finally:
        finish()
    if as_json:
        _echo_json(_summary_json(summary))
    else:
        _print_summary(summary, str(target))


def _recorded_sources(target: Any) -> list[str]:
    """The folders the index at ``target`` was built from (``seeds`` for a new index).

    Read from meta.json directly: an index of an older schema version is refused by
    ``read_meta``, yet ``search index --rebuild`` must still know what to rebuild it from.
    """
    from .layout import index_paths

    try:
        with open(index_paths(target)[2], encoding="utf-8") as fh:
            recorded = json.load(fh).get("sources", [])
    except (OSError, ValueError, AttributeError):
        recorded = []
    return [s for s in recorded if isinstance(s, str)] or ["seeds"]


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
            "unchanged": summary.unchanged, "duplicates": summary.duplicates,
            "skipped": [{"path": s.path, "reason": s.reason} for s in summary.skipped],
            "seconds": round(summary.elapsed, 3)}


def _print_summary(summary: IndexSummary, target: str) -> None:
    click.echo(f"index {terminal_safe(target, single_line=True)}: {summary.added} added, "
               f"{summary.updated} updated, {summary.removed} removed, "
               f"{summary.unchanged} unchanged, {summary.duplicates} duplicates, "
               f"{len(summary.skipped)} skipped ({summary.elapsed:.1f}s)")
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


@cli.command("query")
@click.argument("query")
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
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto",
              show_default=True, help="Colour matches (auto: on a terminal, unless NO_COLOR).")
@_handle_errors
def query_cmd(query: str, index_dir: str | None, actors: tuple[str, ...],
              locations: tuple[str, ...], people: tuple[str, ...], date_from: str | None,
              date_to: str | None, limit: int, page: int, sort: str, show_facets: bool,
              as_json: bool, color: str) -> None:
    """Search the index; exit status 0 with hits, 1 without, 2 on error.

    QUERY uses the query language: words, "phrases"~slop, AND/OR/NOT, -word, wild*, fuzzy~,
    fields (title: body: actor: location: person: date:) and ranges (date:[2017 TO 2018-06]).

    \b
    Example:
      search query "missile strike" --actor IRGC --location Syria --from 2017-06
      search query 'date:>2020 ISIS-K' --json | jq '.hits[].title'
    """
    with _open(index_dir) as ix:
        results = ix.search(query, limit=limit, page=page, sort=sort,  # type: ignore[arg-type]
                            actors=actors, locations=locations, people=people,
                            date_from=date_from, date_to=date_to,
                            facets=as_json or show_facets)
    for warning in results.warnings:
        click.echo(f"search: warning: {terminal_safe(warning, single_line=True)}", err=True)
    if results.total and not results.hits:
        last = -(-results.total // limit)
        click.echo(f"search: page {page} is past the last page ({last:,} page"
                   f"{'s' if last != 1 else ''} of {limit} for {results.total:,} results)",
                   err=True)
    if as_json:
        _echo_json(_results_json(results))
    else:
        _print_results(results, _use_color(color), show_facets)
    sys.exit(0 if results.total else 1)


def _hit_json(hit: Hit) -> dict[str, Any]:
    return {"id": hit.id, "path": hit.path, "title": hit.title,
            "published": _date(hit.published), "actors": list(hit.actors),
            "locations": list(hit.locations), "people": list(hit.people),
            "score": round(hit.score, 4), "snippet": hit.snippet,
            "highlights": [list(span) for span in hit.highlights]}


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
        click.echo(click.style(meta, dim=True) if color else meta, color=color)
        who = ", ".join(hit.actors[:5])
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


# --- show / similar ------------------------------------------------------------------------

def _article_json(article: Article) -> dict[str, Any]:
    return {
        "id": article.id, "path": article.path, "title": article.title,
        "subtitle": article.subtitle, "authors": list(article.authors),
        "published": _date(article.published), "url": article.url, "source": article.source,
        "actors": list(article.actors), "locations": list(article.locations),
        "people": list(article.people),
        "mentioned_dates": [d.isoformat() for d in article.mentioned_dates],
        "entities": [{"facet": m.facet, "name": m.name, "text": m.surface,
                      "start": m.start, "end": m.end} for m in article.mentions],
        "duplicates": list(article.duplicates), "metadata": dict(article.metadata),
        "text": article.text,
    }


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
        _echo_json(_article_json(article))
        return
    safe = functools.partial(terminal_safe, single_line=True)
    click.echo(click.style(safe(article.title), bold=True))
    if article.subtitle:
        click.echo(safe(article.subtitle))
    facts = [("id", article.id), ("path", article.path),
             ("published", _date(article.published) or "undated"),
             ("authors", ", ".join(article.authors)), ("url", article.url or ""),
             ("source", article.source or ""), ("actors", ", ".join(article.actors)),
             ("locations", ", ".join(article.locations)), ("people", ", ".join(article.people)),
             ("dates mentioned", ", ".join(d.isoformat() for d in article.mentioned_dates)),
             ("duplicates", ", ".join(article.duplicates))]
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
        data["skipped_files"] = skipped
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
        click.echo(f"  {safe(item['path'])}: {safe(item['reason'])}")


@cli.command("facets")
@_index_option
@click.option("--kind", type=click.Choice(["actor", "location", "person", "year", "month",
                                          "mentioned"]),
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
    kinds = kind or ("actor", "location", "person", "year", "month", "mentioned")
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


@cli.group("gazetteer")
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
    from .gazetteer import gazetteer_gaps

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


@cli.command("tui")
@_index_option
@_handle_errors
def tui_cmd(index_dir: str | None) -> None:
    """Open the full-screen terminal UI (search as you type, facets, timeline, reader).

    \b
    Example:
      search tui --index ~/articles-index
    """
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

    Exit status 0 when the index is sound, 1 when it is sound but sources changed since the
    last update, 2 when it is damaged (each problem names its fix).

    \b
    Example:
      search check --index ~/articles-index
    """
    from .check import check_index
    from .config import resolve_index_dir

    report = check_index(resolve_index_dir(index_dir), list(sources) or None)
    if as_json:
        _echo_json({"index": report.index_dir, "ok": report.ok, "up_to_date": report.up_to_date,
                    "documents": report.documents, "segments": report.segments,
                    "manifest_documents": report.manifest_documents,
                    "problems": list(report.problems), "notes": list(report.notes),
                    "missing_sources": list(report.missing_sources),
                    "unindexed_sources": list(report.unindexed_sources),
                    "changed_sources": list(report.changed_sources)})
    else:
        safe = functools.partial(terminal_safe, single_line=True)
        state = "damaged" if not report.ok else "ok" if report.up_to_date else "ok, out of date"
        click.echo(f"index {safe(report.index_dir)}: {state}")
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
