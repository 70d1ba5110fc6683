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
    path = tmp_path / months.FOLDER / "_" / "2026-11.json"
    raw = json.loads(path.read_text())
    raw["inc01"][3] = "<li>Outage!</li>"
    other = path.with_name("other.json")
    other.write_text(json.dumps(raw))
    other.replace(path)  # as a writer elsewhere does: a new file by a rename
    assert months.read(tmp_path, "", "2026-11") == listed("<li>Outage!</li>")


def test_entries_are_kept_as_one_json_object(tmp_path, monkeypatch):
    monkeypatch.setattr(months, "_members", {})
    both = {
        **listed('<li>"Ausfall"</li>'),
        "inc02": months.Entry((0, 1, "inc02"), AT, "<li>ü</li>"),
    }
    months.write(tmp_path, "de", "2026-11", both)
    months.write(tmp_path, "de", "2026-11", both)  # the members encoded before
    raw = (tmp_path / months.FOLDER / "de" / "2026-11.json").read_text()
    assert raw == json.dumps(
        {i: [*e.order[:2], months._micros(e.updated_at), e.html] for i, e in both.items()},
        separators=(",", ":"),
        ensure_ascii=False,
    )
