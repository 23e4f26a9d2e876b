"""Public data sets the benchmarks read, built on first use from a git copy of their source.

None of these data sets is in this repository. A benchmark that needs one calls
:func:`extract`: the first time, it reads the source repository at the pinned commit from a
git copy you give (``--source PATH`` or the data set's environment variable; a clone, its
``.git`` folder or a bare mirror, no work tree needed), builds the compact extract and keeps it
outside the repository (``$XDG_CACHE_HOME/langmem-bench/data``, else
``~/.cache/langmem-bench/data``); later runs read that file. The extract's content is checked
against the SHA-256 of the one the numbers in docs/ranking.md were measured on, so a changed
source or extraction rule fails loudly instead of moving the numbers. docs/bench-data.md says
where each data set comes from and under which license.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class SourceMissing(SystemExit):
    """No git copy of a data set's source was given (or it lacks the pinned commit)."""


@dataclass(frozen=True)
class Source:
    name: str  # the extract's file name: NAME-COMMIT12.json.gz
    variable: str  # the environment variable naming the git copy
    repository: str  # owner/name on GitHub
    commit: str  # the commit the extract is built from
    content: str  # SHA-256 of the extract's JSON text (decompressed)

    @property
    def url(self) -> str:
        return f"https://github.com/{self.repository}"

    def help(self) -> str:
        return (
            f"a git copy of {self.url} at commit {self.commit} (a clone, its .git folder or a "
            f"bare mirror); default ${self.variable}"
        )

    def missing(self, why: str) -> SourceMissing:
        return SourceMissing(
            f"{why}\nThe {self.name} benchmark data is not in this repository: it is built once "
            f"from {self.url} at commit {self.commit} and cached in {cache_dir()}.\n"
            f"Give a git copy of that repository with --source PATH or {self.variable}=PATH, "
            f"for example:\n"
            f"    git clone {self.url}.git /tmp/{self.repository.split('/')[1]}\n"
            f"    export {self.variable}=/tmp/{self.repository.split('/')[1]}\n"
            f"(or, where the tool library is mounted, its fetch tool with "
            f"github:{self.repository}, then {self.variable}=/work/.mirror/"
            f"{self.repository.replace('/', '+')}/repo)."
        )


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "langmem-bench" / "data"


def cached(source: Source) -> Path:
    return cache_dir() / f"{source.name}-{source.commit[:12]}.json.gz"


def git_dir(path: Path) -> Path:
    """The git directory of ``path`` (a work tree with ``.git``, or a git directory)."""
    return path / ".git" if (path / ".git").exists() else path


def _git(git: Path, *args: str) -> bytes:
    return subprocess.run(
        ["git", f"--git-dir={git}", *args], check=True, capture_output=True
    ).stdout


def show(git: Path, commit: str, path: str) -> Any:
    """The JSON file ``path`` at ``commit`` of the git directory ``git``."""
    return json.loads(_git(git, "show", f"{commit}:{path}"))


def files(git: Path, commit: str, folder: str) -> list[str]:
    """The names (not paths) of the files directly in ``folder`` at ``commit``, sorted."""
    out = _git(git, "ls-tree", "--name-only", f"{commit}:{folder}").decode()
    return sorted(out.splitlines())


def text(data: dict[str, Any]) -> bytes:
    """An extract's JSON text, as written (compact, UTF-8)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def extract(
    source: Source, build: Callable[[Path], dict[str, Any]], given: Path | str | None = None
) -> Path:
    """The cached extract of ``source``, built by ``build(git_dir)`` if not cached yet."""
    out = cached(source)
    if out.exists():
        return out
    where = given or os.environ.get(source.variable)
    if not where:
        raise source.missing(f"No source for the {source.name} data: {out} is not built yet.")
    git = git_dir(Path(where).expanduser())
    try:
        _git(git, "cat-file", "-e", f"{source.commit}^{{commit}}")
    except (subprocess.CalledProcessError, FileNotFoundError):
        raise source.missing(
            f"{where} is not a git copy of {source.url} holding commit {source.commit}."
        ) from None
    body = text(build(git))
    digest = hashlib.sha256(body).hexdigest()
    if digest != source.content:
        raise SystemExit(
            f"The {source.name} extract built from {where} has SHA-256 {digest}, not "
            f"{source.content} (the one docs/ranking.md's numbers were measured on): the "
            f"source or the extraction rules changed. Nothing was cached."
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f"{out.name}.{os.getpid()}.partial")
    # mtime=0 and the header's file name NAME.json: the same input gives the same bytes (those
    # of the extract once kept in the repository, where it was written the same way)
    with partial.open("wb") as raw, gzip.GzipFile(f"{source.name}.json.gz", "wb", 9, raw, 0) as f:
        f.write(body)
    partial.replace(out)
    print(f"built {out} from {where} ({len(body):,} bytes of JSON)")
    return out


def load(source: Source, build: Callable[[Path], dict[str, Any]], given: Any = None) -> Any:
    """The extract of ``source`` as JSON (built first if needed)."""
    with gzip.open(extract(source, build, given), "rt", encoding="utf-8") as f:
        return json.load(f)
