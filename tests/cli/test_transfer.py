"""export -> import -> export is byte-identical; bad input imports nothing; other stores work."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime
from pathlib import Path

import pytest
from langgraph.store.memory import InMemoryStore

from langmem.cli import _transfer
from langmem.stores import SqliteStore
from tests.cli._support import SEED, run, seed_text, seeded_store


def test_export_import_export_is_byte_identical(tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    first = run("memories", "export", "--store", url)
    assert first.exit_code == 0
    assert first.stdout == seed_text()  # sorted by namespace and key, timestamps kept

    (tmp_path / "one.jsonl").write_text(first.stdout, encoding="utf-8")
    other = f"sqlite:///{tmp_path / 'other.sqlite'}?embed=hashing&dims=64"
    imported = run("memories", "import", str(tmp_path / "one.jsonl"), "--store", other)
    assert imported.stdout == '{"imported":3,"namespaces":["memories/alice","memories/bob"]}\n'
    out = tmp_path / "two.jsonl"
    assert run("memories", "export", "-o", str(out), "--store", other).exit_code == 0
    assert out.read_bytes() == (tmp_path / "one.jsonl").read_bytes()
    # the target re-embedded with its own model: search works there
    hit = run("memories", "search", "peanuts", "--limit", "1", "--store", other)
    assert '"key":"a1"' in hit.stdout


def test_export_of_a_namespace(tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    result = run("memories", "export", "-n", "memories/bob", "--store", url)
    assert result.stdout == seed_text().splitlines(keepends=True)[2]


def test_import_from_stdin_overwrites_same_keys(tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    changed = seed_text().replace("peanuts", "cashews")
    result = run("memories", "import", "-", "--store", url, input=changed)
    assert result.exit_code == 0
    assert run("memories", "export", "--store", url).stdout == changed


def test_malformed_line_imports_nothing(tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    before = run("memories", "export", "--store", url).stdout
    lines = seed_text().replace("peanuts", "walnuts").splitlines()
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([lines[0], lines[1], "{not json", lines[2]]) + "\n", encoding="utf-8")
    result = run("memories", "import", str(bad), "--store", url)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"error: '{bad}', line 3: Expecting property name enclosed in double quotes: line 1 "
        "column 2 (char 1). Each line must be a JSON object with namespace, key, value, "
        "created_at, updated_at (as `langmem memories export` writes); nothing was imported.\n"
    )
    assert run("memories", "export", "--store", url).stdout == before


def test_line_errors_name_the_rule(tmp_path: Path) -> None:
    cases = {
        '{"namespace":["m"],"key":"k","value":{}}': "missing created_at, updated_at",
        '{"namespace":"m","key":"k","value":{},"created_at":"2024-01-01T00:00:00",'
        '"updated_at":"2024-01-01T00:00:00"}': "namespace 'm' must be a non-empty list",
        '{"namespace":["m"],"key":"k","value":[],"created_at":"2024-01-01T00:00:00",'
        '"updated_at":"2024-01-01T00:00:00"}': "value must be a JSON object, got list",
        '{"namespace":["m"],"key":"k","value":{},"created_at":"yesterday",'
        '"updated_at":"2024-01-01T00:00:00"}': "created_at 'yesterday' is not an ISO 8601 time",
        "[1, 2]": "expected a JSON object, got list",
    }
    for text, expected in cases.items():
        result = run("memories", "import", "-", "--store", str(tmp_path / "s.sqlite"), input=text)
        assert result.exit_code == 1
        assert result.stderr.startswith(f"error: <stdin>, line 1: {expected}"), result.stderr
    duplicate = seed_text() + seed_text().splitlines(keepends=True)[0]
    result = run("memories", "import", "-", "--store", str(tmp_path / "s.sqlite"), input=duplicate)
    assert result.stderr == (
        "error: <stdin>, line 4: key 'a1' in namespace 'memories/alice' already appears on "
        "line 1; nothing was imported.\n"
    )


def test_failure_while_writing_rolls_back(tmp_path: Path) -> None:
    items = _transfer.parse_lines(seed_text().splitlines(), "seed")
    store = SqliteStore(tmp_path / "s.sqlite", index=None)

    class Boom(Exception):
        pass

    original = store._apply_writes
    calls = []

    def second_fails(conn, writes, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(len(writes))
        original(conn, writes[:1], *args, **kwargs)
        raise Boom

    store._apply_writes = second_fails  # type: ignore[method-assign]
    with pytest.raises(Boom):
        _transfer.write_items(store, items)
    assert calls == [3]
    assert store.search(()) == []
    store.close()


def test_import_into_a_store_without_restore() -> None:
    items = _transfer.parse_lines(seed_text().splitlines(), "seed")
    target = InMemoryStore()
    assert _transfer.write_items(target, items) == 3
    copied = _transfer.iter_items(target, ())
    assert [(i.namespace, i.key, i.value) for i in copied] == [
        (tuple(r["namespace"]), r["key"], r["value"]) for r in SEED
    ]


def test_store_copy_between_files(tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    target = f"sqlite:///{tmp_path / 'copy.sqlite'}"  # a new file gets the source's index
    result = run("store", "copy", url, target)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        f'{{"copied":3,"vectors":"copied","source":"{url}","target":"{target}"}}\n'
    )
    assert run("memories", "export", "--store", target).stdout == seed_text()
    info = json.loads(run("store", "info", "--store", target).stdout)
    assert info["index"]["embeddings"] == "langmem-hashing-384"
    same = run("store", "copy", url, url)
    assert same.exit_code == 1
    assert same.stderr.startswith("error: source and target are the same store")


def test_store_copy_reembeds_for_another_index(tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    target = f"sqlite:///{tmp_path / 'small.sqlite'}?embed=hashing&dims=32"
    result = run("store", "copy", url, target, "-n", "memories/bob")
    assert json.loads(result.stdout)["vectors"] == "re-embedded"
    assert (
        run("memories", "export", "--store", target).stdout
        == seed_text().splitlines(keepends=True)[2]
    )
    result = run("store", "copy", url, target)  # whole store, but another index: re-embedded
    assert json.loads(result.stdout) == {
        "copied": 3,
        "vectors": "re-embedded",
        "source": url,
        "target": target,
    }
    hit = run("memories", "search", "peanuts", "-l", "1", "--store", target)
    assert '"key":"a1"' in hit.stdout


def test_store_info(tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    result = run("store", "info", "--store", url)
    path = tmp_path / "seed.sqlite"
    size = path.stat().st_size + (Path(f"{path}-wal").stat().st_size)
    assert result.stdout == (
        f'{{"store":"{url}","path":"{path}","size_bytes":{size},'
        '"index":{"embeddings":"langmem-hashing-384","dims":384,"fields":["$"],"generation":0},'
        '"memories":3,'
        '"namespaces":{"memories/alice":2,"memories/bob":1},"internal_records":0}\n'
    )


def test_password_never_printed() -> None:
    from langmem.cli._target import display_url

    assert (
        display_url("postgresql://ana:s3cret@db.example:5432/mem")
        == "postgresql://ana:***@db.example:5432/mem"
    )


def test_store_reembed_changes_the_index(tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    plain = url.split("?")[0]  # the file records its embeddings; no ?embed needed
    result = run("store", "reembed", "--embed", "hashing", "--dims", "32", "--store", plain)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        '{"reembedded":3,"index":{"embeddings":"langmem-hashing-32","dims":32,"fields":["$"],'
        '"generation":1}}\n'
    )
    hit = run("memories", "search", "Berlin marathon", "--limit", "1", "--store", plain)
    assert '"key":"b1"' in hit.stdout
    assert run("memories", "export", "--store", plain).stdout == seed_text()
    # opening with the old embeddings is refused, nothing is re-embedded by accident
    stale = run("memories", "search", "x", "--store", f"{plain}?embed=hashing&dims=384")
    assert stale.exit_code == 1
    assert "is indexed with (embed='langmem-hashing-32', dims=32" in stale.stderr


def test_export_sorts_keys_inside_values(tmp_path: Path) -> None:
    line = (
        '{"namespace":["m"],"key":"k","value":{"zeta":1,"alpha":{"y":[{"b":1,"a":2}],"x":"é"}},'
        '"created_at":"2024-01-01T00:00:00+00:00","updated_at":"2024-01-01T00:00:00+00:00"}\n'
    )
    url = f"sqlite:///{tmp_path / 's.sqlite'}?embed=hashing"
    assert run("memories", "import", "-", "--store", url, input=line).exit_code == 0
    assert run("memories", "export", "--store", url).stdout == (
        '{"namespace":["m"],"key":"k","value":{"alpha":{"x":"é","y":[{"a":2,"b":1}]},"zeta":1},'
        '"created_at":"2024-01-01T00:00:00+00:00","updated_at":"2024-01-01T00:00:00+00:00"}\n'
    )


def test_import_accepts_a_byte_order_mark_and_crlf(tmp_path: Path) -> None:
    source = tmp_path / "windows.jsonl"
    source.write_bytes(b"\xef\xbb\xbf" + seed_text().replace("\n", "\r\n").encode("utf-8"))
    url = f"sqlite:///{tmp_path / 's.sqlite'}?embed=hashing"
    assert run("memories", "import", str(source), "--store", url).exit_code == 0
    assert run("memories", "export", "--store", url).stdout == seed_text()


def test_import_of_non_utf8_text(tmp_path: Path) -> None:
    source = tmp_path / "latin1.jsonl"
    source.write_bytes("caf\xe9\n".encode("latin-1"))
    result = run("memories", "import", str(source), "--store", str(tmp_path / "s.sqlite"))
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: '{source}' is not UTF-8 text (invalid continuation byte); nothing was imported. "
        "Fix: give the JSON Lines `langmem memories export` writes: decompress it first "
        "(`gunzip -c FILE.gz | langmem memories import -`), or convert it to UTF-8 (`iconv -f "
        "latin1 -t utf-8`).\n"
    )


def test_store_info_of_a_store_without_file() -> None:
    result = run("store", "info", "--store", "memory://?embed=hashing&dims=16")
    assert result.stdout == (
        '{"store":"memory://?embed=hashing&dims=16","index":{"embeddings":"langmem-hashing-16",'
        '"dims":16,"fields":["$"]},"memories":0,"namespaces":{},"internal_records":0}\n'
    )


def _ttls(path: Path) -> list[tuple[str, str, float, float]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT prefix, key, ttl_minutes, expires_at FROM langmem_items"
            " WHERE ttl_minutes IS NOT NULL ORDER BY prefix, key"
        ).fetchall()
    finally:
        conn.close()


def test_ttls_round_trip_with_their_exact_expiry(tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    store = SqliteStore(tmp_path / "seed.sqlite")
    store.put(("memories", "alice"), "t1", {"content": "Alice is in Lisbon this week"}, ttl=90)
    store.put(("memories", "bob"), "t2", {"content": "Bob's gate is B12"}, ttl=2.5)
    store.close()
    first = run("memories", "export", "--store", url)
    assert first.exit_code == 0, first.stderr
    lines = [json.loads(text) for text in first.stdout.splitlines()]
    timed = {r["key"]: r for r in lines if "ttl_minutes" in r}
    assert sorted(timed) == ["t1", "t2"] and len(lines) == 5
    assert timed["t1"]["ttl_minutes"] == 90.0 and timed["t2"]["ttl_minutes"] == 2.5
    assert all("ttl_minutes" not in r and "expires_at" not in r for r in lines if r["key"] < "t")
    expiry = datetime.fromisoformat(timed["t1"]["expires_at"])
    assert abs(expiry.timestamp() - (time.time() + 90 * 60)) < 60
    # exporting does not refresh the TTLs: the same bytes a moment later
    time.sleep(0.01)
    assert run("memories", "export", "--store", url).stdout == first.stdout
    source = tmp_path / "timed.jsonl"
    source.write_text(first.stdout, encoding="utf-8")
    other = tmp_path / "other.sqlite"
    imported = run("memories", "import", str(source), "--store", f"sqlite:///{other}?embed=hashing")
    assert imported.exit_code == 0, imported.stderr
    again = run("memories", "export", "--store", f"sqlite:///{other}")
    assert again.stdout == first.stdout  # byte-identical, expiry included
    assert [row[:3] for row in _ttls(other)] == [
        ("memories.alice", "t1", 90.0),
        ("memories.bob", "t2", 2.5),
    ]
    assert [row[3] for row in _ttls(other)] == pytest.approx(
        [row[3] for row in _ttls(tmp_path / "seed.sqlite")], abs=1e-6
    )
    # an item whose TTL ran out while the file travelled is imported already expired
    gone = first.stdout.replace(timed["t2"]["expires_at"], "2020-01-01T00:00:00+00:00")
    assert (
        run("memories", "import", "-", "--store", f"sqlite:///{other}", input=gone).exit_code == 0
    )
    found = run("memories", "get", "t2", "-n", "memories/bob", "--store", f"sqlite:///{other}")
    assert found.exit_code == 1 and "no memory with key 't2'" in found.stderr


def test_ttl_fields_are_checked(tmp_path: Path) -> None:
    base = (
        '{"namespace":["m"],"key":"k","value":{},"created_at":"2024-01-01T00:00:00",'
        '"updated_at":"2024-01-01T00:00:00"'
    )
    cases = {
        base + ',"ttl_minutes":5}': "ttl_minutes without expires_at (an item's TTL needs both)",
        base + ',"expires_at":"2030-01-01T00:00:00"}': "expires_at without ttl_minutes",
        base + ',"ttl_minutes":0,"expires_at":"2030-01-01T00:00:00"}': "ttl_minutes 0 must be",
        base + ',"ttl_minutes":"5","expires_at":"2030-01-01T00:00:00"}': "ttl_minutes '5' must",
        base + ',"ttl_minutes":5,"expires_at":"soon"}': "expires_at 'soon' is not an ISO 8601",
    }
    for text, expected in cases.items():
        result = run("memories", "import", "-", "--store", str(tmp_path / "s.sqlite"), input=text)
        assert result.exit_code == 1
        assert result.stderr.startswith(f"error: <stdin>, line 1: {expected}"), result.stderr
    assert (
        not (tmp_path / "s.sqlite").exists()
        or run("memories", "export", "--store", str(tmp_path / "s.sqlite")).stdout == ""
    )


def test_a_store_that_cannot_keep_ttls_gets_the_items_and_the_count() -> None:
    timed = (
        '{"namespace":["m"],"key":"k","value":{"content":"x"},"created_at":"2024-01-01T00:00:00'
        '+00:00","updated_at":"2024-01-01T00:00:00+00:00","ttl_minutes":5.0,'
        '"expires_at":"2030-01-01T00:00:00+00:00"}'
    )
    items = _transfer.parse_lines([timed, *seed_text().splitlines()], "lines")
    target = InMemoryStore()
    assert _transfer.write_items(target, items) == 4
    assert _transfer.dropped_ttls(target, items) == 1
    assert target.get(("m",), "k") is not None
