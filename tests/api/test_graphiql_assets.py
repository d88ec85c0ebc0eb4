"""The vendored GraphiQL files: each is the one its README names, with its licence, and the page loads only them."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.graphiql import ASSETS_DIR, ASSETS_PATH, graphiql_page, mount_graphiql_assets

ROW = re.compile(r"^\| (\S+) \| (\S+@[\d.]+) \| (package/\S+) \| ([0-9a-f]{64}) \|$", re.MULTILINE)


def manifest() -> dict[str, str]:
    """file -> sha256, from the table in the README."""
    return {m[1]: m[4] for m in ROW.finditer((ASSETS_DIR / "README.md").read_text(encoding="utf-8"))}


def test_every_file_is_the_one_the_readme_names() -> None:
    listed = manifest()
    shipped = {p.relative_to(ASSETS_DIR).as_posix() for p in ASSETS_DIR.rglob("*") if p.is_file()}
    assert shipped - {"README.md"} == set(listed)
    for name, sha256 in listed.items():
        assert hashlib.sha256((ASSETS_DIR / name).read_bytes()).hexdigest() == sha256, name


def test_every_package_directory_has_its_licence() -> None:
    for directory in (p for p in ASSETS_DIR.iterdir() if p.is_dir()):
        assert "MIT License" in (directory / "LICENSE").read_text(encoding="utf-8"), directory.name


def test_the_page_loads_only_local_files_with_their_integrity() -> None:
    page = graphiql_page("/static/graphiql")
    assert "unpkg" not in page.split("-->", 1)[1] and "{{" not in page
    urls = re.findall(r'(?:src|href)="(/static/graphiql/[^"]+)"\s+integrity="(sha384-[^"]+)"', page)
    assert len(urls) == 6
    for url, integrity in urls:
        digest = hashlib.sha384((ASSETS_DIR / url.removeprefix("/static/graphiql/")).read_bytes()).digest()
        assert integrity == "sha384-" + base64.b64encode(digest).decode(), url
    assert not re.search(r'(?:src|href)="(?!/static/graphiql/|data:)[a-z]+:', page)  # no other origin


def test_the_page_url_is_escaped() -> None:
    assert '"/a&quot;b/react-18.2.0/' in graphiql_page('/a"b/')


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    mount_graphiql_assets(app)
    return TestClient(app)


def test_versioned_files_are_cached_for_a_year_and_gzipped(client: TestClient) -> None:
    response = client.get(f"{ASSETS_PATH}/graphiql-3.8.3/graphiql.min.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-encoding"] == "gzip"
    assert response.content == (ASSETS_DIR / "graphiql-3.8.3/graphiql.min.js").read_bytes()
    again = client.get(
        f"{ASSETS_PATH}/graphiql-3.8.3/graphiql.min.js", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304


def test_unversioned_files_are_revalidated_and_nothing_outside_is_served(client: TestClient) -> None:
    assert client.get(f"{ASSETS_PATH}/README.md").headers["cache-control"] == "no-cache"
    assert client.get(f"{ASSETS_PATH}/../graphiql.html").status_code == 404
    assert client.get(f"{ASSETS_PATH}/missing.js").status_code == 404
