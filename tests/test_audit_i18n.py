"""Every string people read can be translated: text in the templates sits inside
{% translate %} / {% blocktranslate %}, and messages, errors, labels and help texts in
the Python code are wrapped in gettext. (Management commands talk to operators in
English, and are left out.)"""

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
TEMPLATES = sorted(p for p in (BASE_DIR / "templates").rglob("*") if p.suffix in (".html", ".txt"))
APPS = ["mutualaid", "pods", "pledges", "receipts", "recipients", "users"]

# Attributes whose words are read out or shown.
READ_ATTRIBUTES = {"aria-label", "title", "alt", "placeholder", "aria-roledescription"}


def untranslated_markup(source):
    """What is left of a template once translated text, tags, variables and comments
    are taken out: it must hold no words."""
    for pattern in [
        r"\{% comment %\}.*?\{% endcomment %\}",
        r"\{#.*?#\}",
        r"\{% blocktranslate.*?\{% endblocktranslate %\}",
        # An admin page's CSS classes, not text.
        r"\{% block bodyclass %\}.*?\{% endblock %\}",
        r"\{%.*?%\}",
        r"\{\{.*?\}\}",
    ]:
        source = re.sub(pattern, "", source, flags=re.DOTALL)
    return source


class Words(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in READ_ATTRIBUTES & set(attrs):
            if re.search(r"[^\W\d_]", attrs[name] or ""):
                self.found.append(f'{name}="{attrs[name]}"')
        value = attrs.get("value") or ""
        button = tag == "input" and attrs.get("type") in ("submit", "button", "reset")
        if button and re.search(r"[^\W\d_]", value):
            self.found.append(f'<input value="{value}">')

    def handle_data(self, data):
        if re.search(r"[^\W\d_]", data):
            self.found.append(data.strip())


def words_outside_translation(path):
    left = untranslated_markup(path.read_text())
    if path.suffix == ".txt":
        return [line.strip() for line in left.splitlines() if re.search(r"[^\W\d_]", line)]
    parser = Words()
    parser.feed(left)
    return parser.found


def test_template_text_is_translatable():
    found = [
        f"{path.relative_to(BASE_DIR)}: {words!r}"
        for path in TEMPLATES
        for words in words_outside_translation(path)
    ]
    assert not found, "Wrap in {% translate %}:\n" + "\n".join(found)


def test_the_template_check_finds_bare_words(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        '{% load i18n %}<h1>Hello</h1><p>{% translate "Fine" %}</p>'
        '<nav aria-label="Pages"></nav><img alt="{% translate \'Fine\' %}">'
        '<input type="submit" value="Send">{{ name }} · '
        "{% blocktranslate %}Fine{% endblocktranslate %}"
    )
    assert words_outside_translation(page) == [
        "Hello",
        'aria-label="Pages"',
        '<input value="Send">',
    ]


# Exceptions whose first argument people read, and keywords whose string they read.
SHOWN_EXCEPTIONS = {"ValidationError", "Http404", "PermissionDenied"}
MESSAGE_LEVELS = {"debug", "info", "success", "warning", "error", "add_message"}
SHOWN_KEYWORDS = {
    "label",
    "help_text",
    "verbose_name",
    "verbose_name_plural",
    "description",
    "empty_label",
    "violation_error_message",
    "message",
}

SHOWN_ATTRIBUTES = {
    "verbose_name",
    "verbose_name_plural",
    "title",
    "site_header",
    "site_title",
    "index_title",
    "short_description",
}


def bare_strings(tree):
    """(line, source) of plain string literals and f-strings where a translated string
    belongs."""

    def is_bare(node):
        literal = isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value
        return bool(literal) or isinstance(node, ast.JoinedStr)

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and is_bare(node.value):
            # class Meta: verbose_name = "…", a list filter's title, the admin's header.
            names = {t.id for t in node.targets if isinstance(t, ast.Name)}
            if names & SHOWN_ATTRIBUTES:
                yield node.lineno, ast.unparse(node.value)
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        shown = []
        if name in SHOWN_EXCEPTIONS:
            shown = node.args[:1]
        elif (
            isinstance(func, ast.Attribute)
            and func.attr in MESSAGE_LEVELS
            and isinstance(func.value, ast.Name)
            and func.value.id == "messages"
        ):
            # messages.success(request, "text"): the text comes second.
            shown = node.args[1:2]
        shown += [k.value for k in node.keywords if k.arg in SHOWN_KEYWORDS]
        for value in shown:
            if is_bare(value):
                yield node.lineno, ast.unparse(value)


def test_python_messages_are_translatable():
    found = []
    for app in APPS:
        for path in sorted((BASE_DIR / app).rglob("*.py")):
            if "migrations" in path.parts or "management" in path.parts:
                continue
            for line, text in bare_strings(ast.parse(path.read_text())):
                found.append(f"{path.relative_to(BASE_DIR)}:{line}: {text}")
    assert not found, "Wrap in gettext:\n" + "\n".join(found)


def test_the_python_check_finds_bare_strings():
    tree = ast.parse(
        "raise ValidationError('Bad')\n"
        "messages.success(request, f'Saved {x}')\n"
        "forms.CharField(label='Name', help_text=_('Fine'))\n"
        "raise ValidationError(_('Fine'))\n"
        "class Meta:\n    verbose_name = 'thing'\n"
        "form.add_error('field', _('Fine'))\n"
    )
    assert [text for _line, text in bare_strings(tree)] == [
        "'Bad'",
        "f'Saved {x}'",
        "'Name'",
        "'thing'",
    ]
