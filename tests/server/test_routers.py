"""The server split into one router per capability keeps the HTTP API exactly as it was:
the generated OpenAPI schema equals the one recorded before the split (tests/server/
openapi.json; regenerate it on purpose when the API changes), and app.py keeps only the
factory, the middleware and the error handlers."""

from __future__ import annotations

import json
from pathlib import Path

from seedguard.server import db
from seedguard.server.app import create_app
from seedguard.server.settings import Settings

RECORDED = Path(__file__).with_name("openapi.json")


def test_the_schema_is_unchanged(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    app = create_app(Settings(database_url=url), db.Database(url))
    assert app.openapi() == json.loads(RECORDED.read_text())


def test_app_py_holds_no_route() -> None:
    import seedguard.server.app as module

    source = Path(module.__file__).read_text()
    assert "@app.get(" not in source
    assert "@app.post(" not in source
    assert len(source.splitlines()) < 450
