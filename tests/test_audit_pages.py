"""Every page the app renders, crawled with the test client as an organizer, a donor, a
signed-out visitor and a recipient on a small pod, and checked for two things:

- The Content Security Policy (default-src 'self', no inline script or style) holds: no
  style attribute or <style> element, no inline <script>, no on…= handler, nothing
  loaded from another origin.
- The basics of accessibility: <html lang dir>, one <h1> and no skipped heading level,
  a label for every field, a name for every button, link and image, <th scope>, and
  ids that are unique and point somewhere.
"""

import re
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import pytest
from django.urls import reverse

from tests import audit_world
from tests.test_audit_robustness import kwargs_for, url_patterns

pytestmark = pytest.mark.django_db

# Elements whose address the browser fetches by itself (as opposed to links it follows).
ASSET_ATTRIBUTES = {
    ("script", "src"),
    ("img", "src"),
    ("img", "srcset"),
    ("source", "src"),
    ("source", "srcset"),
    ("iframe", "src"),
    ("embed", "src"),
    ("object", "data"),
    ("video", "src"),
    ("video", "poster"),
    ("audio", "src"),
    ("track", "src"),
    ("input", "src"),
    ("form", "action"),
    ("link", "href"),
}
VOID_ELEMENTS = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
FIELD_TAGS = {"input", "select", "textarea"}
UNLABELLED_INPUT_TYPES = {"hidden", "submit", "button", "reset", "image"}


class Element:
    def __init__(self, tag, attrs, parent):
        self.tag = tag
        self.attrs = dict(attrs)
        self.parent = parent
        self.text = []

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    @property
    def name(self):
        """Its text, or what an aria-label gives it."""
        return " ".join("".join(self.text).split()) or self.attrs.get("aria-label", "").strip()


class Page(HTMLParser):
    """The parts of a page the checks look at."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.elements = []
        self.inline_scripts = []
        self.style_elements = 0
        self.html_attrs = {}
        self._open = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        parent = self._open[-1] if self._open else None
        element = Element(tag, attrs, parent)
        self.elements.append(element)
        if tag == "html":
            self.html_attrs = element.attrs
        if tag == "style":
            self.style_elements += 1
        if tag not in VOID_ELEMENTS:
            self._open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID_ELEMENTS and self._open and self._open[-1].tag == tag:
            self._open.pop()

    def handle_endtag(self, tag):
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index].tag == tag:
                closed = self._open[index]
                del self._open[index:]
                if tag == "script" and "src" not in closed.attrs:
                    self.inline_scripts.append("".join(closed.text))
                return

    def handle_data(self, data):
        for element in self._open:
            element.text.append(data)


def csp_problems(page):
    problems = []
    if page.style_elements:
        problems.append("a <style> element")
    problems += [f"an inline <script>: {text[:60]!r}" for text in page.inline_scripts]
    for element in page.elements:
        for attr, value in element.attrs.items():
            if attr == "style":
                problems.append(f'<{element.tag} style="{value}">')
            if attr.startswith("on"):
                problems.append(f"<{element.tag} {attr}=…>")
            if (element.tag, attr) in ASSET_ATTRIBUTES and value:
                for address in re.split(r",\s*", value):
                    parts = urlsplit(address.strip().split(" ")[0])
                    if parts.netloc and parts.netloc != "testserver":
                        problems.append(f"<{element.tag} {attr}={address!r}> from another origin")
                    if parts.scheme not in ("", "http", "data") and element.tag != "form":
                        problems.append(f"<{element.tag} {attr}={address!r}>")
    return problems


def a11y_problems(page):
    problems = []
    if not page.html_attrs.get("lang"):
        problems.append("<html> has no lang")
    if page.html_attrs.get("dir") not in ("ltr", "rtl"):
        problems.append("<html> has no dir")

    headings = [int(e.tag[1]) for e in page.elements if re.fullmatch(r"h[1-6]", e.tag)]
    if headings.count(1) != 1:
        problems.append(f"{headings.count(1)} <h1> (want one)")
    for before, after in zip(headings, headings[1:], strict=False):
        if after > before + 1:
            problems.append(f"heading level skips from h{before} to h{after}")

    ids = [e.attrs["id"] for e in page.elements if e.attrs.get("id")]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        problems.append(f"duplicate ids: {sorted(duplicates)}")
    labelled = {e.attrs.get("for") for e in page.elements if e.tag == "label"}
    for element in page.elements:
        attrs = element.attrs
        for reference in ("aria-labelledby", "aria-describedby"):
            for target in attrs.get(reference, "").split():
                if target not in ids:
                    problems.append(f"<{element.tag} {reference}={target!r}> points nowhere")
        if element.tag in FIELD_TAGS and attrs.get("type") not in UNLABELLED_INPUT_TYPES:
            has_label = (
                attrs.get("id") in labelled
                or attrs.get("aria-label")
                or attrs.get("aria-labelledby")
                or any(a.tag == "label" for a in element.ancestors())
            )
            if not has_label:
                problems.append(f"<{element.tag} name={attrs.get('name')!r}> has no label")
        if element.tag == "button" and not element.name:
            problems.append(f"<button> without text: {attrs}")
        if (
            element.tag == "input"
            and attrs.get("type") in ("submit", "button")
            and not attrs.get("value", "").strip()
        ):
            problems.append("<input type=submit> without a value")
        if element.tag == "a" and "href" in attrs and not element.name:
            problems.append(f"<a href={attrs['href']!r}> without text")
        if element.tag == "img" and "alt" not in attrs:
            problems.append(f"<img src={attrs.get('src')!r}> without alt")
        # An <svg> is hidden, or an image named by its <title> (as segno draws QR codes).
        if element.tag == "svg" and not (
            attrs.get("aria-hidden") == "true" or (attrs.get("role") == "img" and element.name)
        ):
            problems.append("<svg> neither hidden nor named")
        if element.tag == "th" and attrs.get("scope") not in ("col", "row", "colgroup", "rowgroup"):
            problems.append(f"<th> without scope: {element.name!r}")
        if element.tag == "table" and not any(
            e.tag == "th" and table_of(e) is element for e in page.elements
        ):
            problems.append("<table> without header cells")
    return problems


def table_of(cell):
    return next((a for a in cell.ancestors() if a.tag == "table"), None)


@pytest.fixture
def world(pod, other_pod, cycle, organizer, donor, outsider, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return audit_world.build(
        pod=pod,
        other_pod=other_pod,
        cycle=cycle,
        organizer=organizer,
        donor=donor,
        outsider=outsider,
    )


def rendered_pages(client, maple, elm):
    """(label, response) for every HTML page a GET gives with real ids, and the pages
    only a POST shows (a new invitation's link and QR code, a recipient's new link,
    forms with their errors)."""
    for name, params in url_patterns():
        url = reverse(name, kwargs=kwargs_for(name, params, maple, "own", other=elm))
        response = client.get(url)
        yield f"GET {url}", response
    pages = [
        ("pods:invitation_create", {"role": "donor", "days": "7", "max_uses": "2"}),
        ("pods:invitation_create", {"days": "x"}),
        ("recipients:link_replace", {}),
        ("recipients:referral_move", {"to_position": "x"}),
        ("recipients:referral_enroll", {"payment_method": "cashapp"}),
        ("pods:alerts", {"message": ""}),
        ("pods:pledge", {"action": "set", "amount": "x"}),
        ("receipts:receipt_create", {"amount": "x"}),
        ("receipts:receipt_void", {"reason": ""}),
        ("recipients:refer", {"display_name": ""}),
        ("pods:plan", {"recipient": "x", "form-TOTAL_FORMS": "1", "form-0-amount": "x"}),
        ("users:profile", {"display_name": "x" * 500}),
    ]
    patterns = dict(url_patterns())
    for name, data in pages:
        url = reverse(name, kwargs=kwargs_for(name, patterns[name], maple, "own", other=elm))
        yield f"POST {url} {urlencode(data)[:40]}", client.post(url, data)


def check(pages):
    problems = []
    seen = 0
    for label, response in pages:
        if "text/html" not in response.headers.get("Content-Type", ""):
            continue
        if response.status_code in (301, 302, 405):
            continue
        seen += 1
        page = Page(response.text)
        for problem in csp_problems(page) + a11y_problems(page):
            problems.append(f"{label} ({response.status_code}): {problem}")
    return seen, problems


@pytest.mark.parametrize("who", ["organizer", "donor", "outsider", "anonymous"])
def test_every_page_keeps_the_csp_and_the_accessibility_basics(client, world, who, request):
    maple, elm = world
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    seen, problems = check(rendered_pages(client, maple, elm))
    assert seen > 10
    assert not problems, "\n".join(problems)


def test_the_csp_header_is_sent(client, world, organizer):
    client.force_login(organizer)
    response = client.get(reverse("pods:dashboard", args=["maple"]))
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_the_checks_catch_what_they_should():
    bad = Page(
        '<html><body><h2>x</h2><h4>y</h4><div style="color:red" onclick="x()"></div>'
        "<script>alert(1)</script><style>p{}</style>"
        '<link rel="stylesheet" href="https://cdn.example/x.css"><input name="q">'
        '<button></button><img src="/x.png"><table><tr><th>a</th></tr></table>'
        '<p id="a"></p><p id="a" aria-describedby="nowhere"></p></body></html>'
    )
    found = " | ".join(csp_problems(bad) + a11y_problems(bad))
    for expected in [
        "style=",
        "onclick",
        "inline <script>",
        "<style> element",
        "another origin",
        "no lang",
        "0 <h1>",
        "skips from h2 to h4",
        "has no label",
        "<button> without text",
        "without alt",
        "without scope",
        "duplicate ids",
        "points nowhere",
    ]:
        assert expected in found, expected


@pytest.mark.parametrize(
    ("handler", "status", "heading"),
    [
        ("bad_request", 400, "Bad request"),
        ("permission_denied", 403, "Not allowed"),
        ("page_not_found", 404, "Page not found"),
        ("server_error", 500, "Something went wrong"),
        ("csrf_failure", 403, "The form could not be sent"),
    ],
)
def test_error_pages_are_the_apps_own(rf, handler, status, heading):
    """Django's built-in error pages are English only, without dir, and (for a failed
    CSRF check) styled inline: each has a template of the app's own."""
    from django.core.exceptions import PermissionDenied
    from django.http import Http404
    from django.views import csrf, defaults

    request = rf.get("/somewhere/")
    if handler == "csrf_failure":
        response = csrf.csrf_failure(request, reason="test")
    elif handler == "server_error":
        response = defaults.server_error(request)
    else:
        exception = {"bad_request": Exception(), "permission_denied": PermissionDenied()}
        response = getattr(defaults, handler)(request, exception.get(handler, Http404()))
    assert response.status_code == status
    text = response.content.decode()
    page = Page(text)
    assert f"<h1>{heading}</h1>" in text
    assert not csp_problems(page)
    assert not a11y_problems(page)
