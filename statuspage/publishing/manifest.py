"""What a snapshot was rendered from, kept beside it so the next publish renders only what
changed since.

The manifest names the code and templates that rendered the snapshot (a deploy that changes
them makes the next publish a full one), the moment its render began (rows changed after it
are the next render's work), the month each incident appears under (so history pages are
rebuilt from the months an update touches, not from every incident) and the names every
incident page prints for each component (a rename re-renders the pages that print it).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from flask import current_app

FORMAT = 1
_CODE = Path(__file__).resolve().parent


@dataclass
class Manifest:
    version: str  # site_version() of the render
    generation: str  # the directory of history-sized files this snapshot shares
    rendered_at: str  # ISO time the render's state was read at
    page: str  # digest of the page's own settings, printed on every file
    components: dict[str, str]  # id -> display name, as incident pages print it
    incidents: dict[str, str | None]  # every incident row: id -> month key (None: left out)
    pending: dict[str, str] = field(default_factory=dict)  # path -> first snapshot without it
    format: int = FORMAT

    @property
    def months(self) -> dict[str, int]:
        """Month key -> how many incidents it lists."""
        counts: dict[str, int] = {}
        for month in self.incidents.values():
            if month is not None:
                counts[month] = counts.get(month, 0) + 1
        return counts


MANIFESTS = "manifests"  # beside snapshots/, so no static server serves them


def path_for(snapshot: Path) -> Path:
    return snapshot.parent.parent / MANIFESTS / f"{snapshot.name}.json"


def read(snapshot: Path | None) -> Manifest | None:
    """The manifest of ``snapshot``; None when it has none (rendered by an older version)."""
    if snapshot is None:
        return None
    try:
        raw = json.loads(path_for(snapshot).read_text())
    except (OSError, ValueError):
        return None
    if raw.get("format") != FORMAT:
        return None
    return Manifest(**raw)


def write(snapshot: Path, manifest: Manifest) -> None:
    path_for(snapshot).parent.mkdir(exist_ok=True)
    temporary = path_for(snapshot).with_suffix(".tmp")
    # Its fields are flat: a shallow copy is what asdict's deep one would give, much sooner.
    temporary.write_text(json.dumps(vars(manifest), separators=(",", ":")))
    os.replace(temporary, path_for(snapshot))


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """The package version and the publishing code, read once per process."""
    digest = hashlib.sha256(metadata.version("statuspage").encode())
    for source in sorted(_CODE.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def site_version(assets: dict[str, str]) -> str:
    """Changes whenever the same rows would render to different bytes: the public
    templates (as the app's loader resolves them), the assets, the code and the base URL."""
    env = current_app.jinja_env
    digest = hashlib.sha256(_code_digest().encode())
    digest.update(current_app.config["BASE_URL"].encode())
    for name, version in sorted(assets.items()):
        digest.update(f"{name}={version}\0".encode())
    loader = env.loader
    assert loader is not None
    for name in sorted(n for n in loader.list_templates() if n.startswith("public/")):
        source, _, _ = loader.get_source(env, name)
        digest.update(name.encode() + b"\0" + source.encode())
    return digest.hexdigest()[:32]
