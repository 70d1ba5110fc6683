"""Month entries kept with the generation, and held by the process that wrote or read them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from statuspage.publishing import months

AT = datetime(2026, 11, 3, 12, 30, 0, 123456, tzinfo=UTC)


def listed(html: str) -> dict[str, months.Entry]:
    return {"inc01": months.Entry((1, 2, "inc01"), AT, html)}


def test_entries_read_back_as_written_from_the_file_or_the_process(tmp_path, monkeypatch):
    monkeypatch.setattr(months, "_kept", {})
    months.write(tmp_path, "de", "2026-11", listed("<li>Ausfall</li>"))
    assert months.read(tmp_path, "de", "2026-11") == listed("<li>Ausfall</li>")
    months._kept.clear()
    assert months.read(tmp_path, "de", "2026-11") == listed("<li>Ausfall</li>")
    assert months.read(tmp_path, "fr", "2026-11") == {}


def test_entries_another_process_rewrote_are_read_again(tmp_path, monkeypatch):
    monkeypatch.setattr(months, "_kept", {})
    months.write(tmp_path, "", "2026-11", listed("<li>Outage</li>"))
    path = tmp_path / months.FOLDER / "_" / "2026-11.jsonl"
    raw = json.loads(path.read_text())
    raw["inc01"][3] = "<li>Outage!</li>"
    other = path.with_name("other.json")
    other.write_text(json.dumps(raw))
    other.replace(path)  # as a writer elsewhere does: a new file by a rename
    assert months.read(tmp_path, "", "2026-11") == listed("<li>Outage!</li>")


def test_a_change_is_appended_as_one_line_and_read_back_merged(tmp_path, monkeypatch):
    monkeypatch.setattr(months, "_kept", {})
    path = tmp_path / months.FOLDER / "de" / "2026-11.jsonl"
    both = {
        **listed('<li>"Ausfall"</li>'),
        "inc02": months.Entry((0, 1, "inc02"), AT, "<li>ü</li>"),
    }
    months.write(tmp_path, "de", "2026-11", both)
    first = path.read_text()
    assert months.read(tmp_path, "de", "2026-11") == both  # as a publish reads before it writes
    changed = {**both, "inc01": months.Entry((1, 2, "inc01"), AT, "<li>Behoben</li>")}
    del changed["inc02"]
    months.write(tmp_path, "de", "2026-11", changed)
    months.write(tmp_path, "de", "2026-11", changed)  # nothing differs: nothing written
    lines = path.read_text().splitlines()
    assert path.read_text().startswith(first) and len(lines) == 2
    assert json.loads(lines[1]) == {
        "inc01": [1, 2, months._micros(AT), "<li>Behoben</li>"],
        "inc02": None,
    }
    months._kept.clear()
    assert months.read(tmp_path, "de", "2026-11") == changed


def test_a_cut_line_leaves_the_entries_unread_and_the_next_write_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(months, "_kept", {})
    path = tmp_path / months.FOLDER / "_" / "2026-11.jsonl"
    months.write(tmp_path, "", "2026-11", listed("<li>Outage</li>"))
    with path.open("a") as log:
        log.write('{"inc01":[1,2,3,"<li>Out')  # a worker killed while appending
    assert months.read(tmp_path, "", "2026-11") == {}  # read from the rows instead
    months.write(tmp_path, "", "2026-11", listed("<li>Outage over</li>"))
    assert len(path.read_text().splitlines()) == 1
    months._kept.clear()
    assert months.read(tmp_path, "", "2026-11") == listed("<li>Outage over</li>")


def test_the_file_is_written_whole_again_after_many_lines(tmp_path, monkeypatch):
    monkeypatch.setattr(months, "_kept", {})
    path = tmp_path / months.FOLDER / "_" / "2026-11.jsonl"
    for n in range(months._MOST_LINES + 1):
        months.read(tmp_path, "", "2026-11")
        months.write(tmp_path, "", "2026-11", listed(f"<li>Update {n}</li>"))
        assert len(path.read_text().splitlines()) == n % months._MOST_LINES + 1
    months._kept.clear()
    assert months.read(tmp_path, "", "2026-11") == listed(f"<li>Update {months._MOST_LINES}</li>")
