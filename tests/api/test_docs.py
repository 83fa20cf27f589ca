"""Tests of the API reference pages: /docs and /redoc load nothing from outside
the service (they work without internet)."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import Service

_URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\s*:\s*["']([^"']+)["']""")
_SPEC_URL = re.compile(r"""spec-url\s*=\s*["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_use_only_local_assets_that_answer(
    service: Service, page: str
) -> None:
    """The page names no external host (no http(s):// or protocol-relative URL),
    and every script, style, icon and spec URL it references is local and
    answers 200 with content."""
    r = service.client.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html), html
    urls = {a or b for a, b in _URL.findall(html)} | set(_SPEC_URL.findall(html))
    assert "/openapi.json" in urls, urls
    assert any(u.endswith(".js") for u in urls), urls
    if page == "/docs":
        assert '"validatorUrl": null' in html  # no badge from validator.swagger.io
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        asset = service.client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 0, url
