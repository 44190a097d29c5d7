"""search open: from a hit to its source file, in the user's editor or the system opener."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchlib import build_index, open_index
from searchlib.cli import cli
from searchlib.models import Article
from searchlib.opener import OpenError, matched_line, plan_open, source_file


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def fake_program(folder: Path, name: str, record: Path, status: int = 0) -> Path:
    """A program that writes its arguments to ``record`` as JSON and exits with ``status``."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text(f"#!{sys.executable}\nimport json, sys\n"
                      f"open({str(record)!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
                      f"sys.exit({status})\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def doc_for(index_dir: Path, query: str) -> str:
    with open_index(index_dir) as ix:
        return ix.search(query, limit=1).hits[0].id


def test_editor_starts_at_the_line_of_the_match(seed_index: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    record = tmp_path / "argv.json"
    editor = fake_program(tmp_path / "bin", "vim", record)
    monkeypatch.setenv("VISUAL", f"{editor} -R")
    doc = doc_for(seed_index, '"missile strike"')
    code, out, err = run("open", doc, "--query", '"missile strike"', "--index", str(seed_index))
    assert (code, out, err) == (0, "", "")
    argv = json.loads(record.read_text())
    assert argv[0] == "-R" and argv[1].startswith("+")
    path = argv[2]
    with open_index(seed_index) as ix:
        assert path == source_file(ix.get(doc).path)
    line = Path(path).read_text(encoding="utf-8").splitlines()[int(argv[1][1:]) - 1]
    assert "missile strike" in line.lower()


def test_editor_without_line_support_gets_the_file_only(seed_index: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    record = tmp_path / "argv.json"
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(fake_program(tmp_path / "bin", "my-editor", record)))
    doc = doc_for(seed_index, "Soleimani")
    code, _, _ = run("open", doc, "--line", "7", "--index", str(seed_index))
    assert code == 0
    argv = json.loads(record.read_text())
    assert len(argv) == 1 and os.path.isabs(argv[0]) and Path(argv[0]).is_file()


def test_system_opener_when_no_editor(seed_index: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    record = tmp_path / "argv.json"
    fake_program(tmp_path / "bin", "xdg-open", record)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setattr(sys, "platform", "linux")
    doc = doc_for(seed_index, "Kerman")
    code, out, _ = run("open", doc, "--print", "--index", str(seed_index))
    assert code == 0 and out.startswith(str(tmp_path / "bin" / "xdg-open") + " /")
    assert not record.exists()  # --print runs nothing
    code, _, _ = run("open", doc, "--index", str(seed_index))
    assert code == 0 and len(json.loads(record.read_text())) == 1


def test_a_failing_editor_is_reported(seed_index: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISUAL", str(fake_program(tmp_path / "bin", "vi", tmp_path / "r", 3)))
    code, _, err = run("open", doc_for(seed_index, "Kerman"), "--index", str(seed_index))
    assert code == 2 and "exited with status 3" in err and err.count("\n") == 1
    code, _, err = run("open", "0000000000000000", "--index", str(seed_index))
    assert code == 2 and "no article" in err


def test_nothing_from_the_document_is_executed(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A hostile file name and URL reach the editor as one plain argument, never a shell."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    name = "-c $(touch PWNED); touch PWNED2 `touch PWNED3`.md"
    (corpus / name).write_text(
        "---\ntitle: Hostile\nurl: \"javascript:alert(1)\"\n---\n\n"
        "The border clash near Kerman was reported on Monday by officials.\n",
        encoding="utf-8")
    build_index([corpus], tmp_path / "ix", procs=1)
    record = tmp_path / "argv.json"
    monkeypatch.setenv("VISUAL", str(fake_program(tmp_path / "bin", "vim", record)))
    monkeypatch.chdir(tmp_path)
    doc = doc_for(tmp_path / "ix", "border clash")
    code, _, _ = run("open", doc, "--query", "border", "--index", str(tmp_path / "ix"))
    assert code == 0
    argv = json.loads(record.read_text())
    assert argv == ["+6", str((corpus / name).resolve())]
    assert not list(tmp_path.rglob("PWNED*"))


def test_a_gone_file_gives_its_url_or_a_one_line_error(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("---\ntitle: Gone\nurl: https://example.org/a\n---\n\n"
                                 "Officials reported a border clash on Monday.\n")
    (corpus / "b.txt").write_text("Officials reported a missile test on Tuesday.\n")
    build_index([corpus], tmp_path / "ix", procs=1)
    a, b = doc_for(tmp_path / "ix", "clash"), doc_for(tmp_path / "ix", "missile")
    (corpus / "a.md").unlink()
    (corpus / "b.txt").unlink()
    code, out, err = run("open", a, "--index", str(tmp_path / "ix"))
    assert (code, out) == (0, "https://example.org/a\n") and "gone" in err
    code, _, err = run("open", b, "--index", str(tmp_path / "ix"))
    assert code == 2 and "gone" in err and "no URL" in err and err.count("\n") == 1


def test_plan_and_line_units(tmp_path: Path) -> None:
    source = tmp_path / "many.jsonl"
    source.write_text('{"title": "One", "body": "Iran fired missiles at Deir ez-Zor."}\n'
                      '{"title": "Two", "body": "Later, the missiles hit a depot in Raqqa."}\n')
    # A record of a multi-article file opens its file.
    assert source_file(f"{source}#1") == str(source)
    assert source_file(str(tmp_path / "nope.txt#1")) is None
    # The line sharing most words with the context wins over the first line with the word.
    assert matched_line(str(source), ["missiles"], "the missiles hit a depot in Raqqa") == 2
    assert matched_line(str(source), ["missiles"], "") == 1
    assert matched_line(str(source), ["absent"], "") is None
    article = Article(id="x", path=f"{source}#1", title="Two", text="", published=None,
                      actors=(), locations=(), people=())
    plan = plan_open(article, line=2, env={"EDITOR": "nvim"})
    assert plan.argv == ("nvim", "+2", str(source)) and plan.terminal
    plan = plan_open(article, line=2, env={"EDITOR": "code --wait"})
    assert plan.argv == ("code", "--wait", str(source)) and plan.line is None
    with pytest.raises(OpenError):
        plan_open(article, env={}, which=lambda name: None)
    plan = plan_open(article, env={}, platform="darwin",
                     which=lambda name: "/usr/bin/open" if name == "open" else None)
    assert plan.argv == ("/usr/bin/open", str(source)) and not plan.terminal
