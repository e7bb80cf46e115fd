"""The English catalogue is complete and compiled: every string the code marks for translation
(Python `_()`/`gettext*` calls, templates' `{% translate %}` and `{% blocktranslate %}`) has an
English translation in fundmgr/locale/en, the compiled .mo says the same as the .po, and the
admin read in English shows its labels, buttons and headings in English."""

from __future__ import annotations

import ast
import gettext
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "fundmgr" / "locale" / "en" / "LC_MESSAGES"
SOURCES = [ROOT / "fundmgr", ROOT / "enterprises", ROOT / "banks", ROOT / "loans", ROOT / "matching"]
GETTEXT_CALLS = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}
CJK = re.compile(r"[\u4e00-\u9fff]")


# --- reading the catalogue ---------------------------------------------------------------------


def _unquote(line: str) -> str:
    return ast.literal_eval(line.strip())


def read_po(path: Path) -> dict[str, list[str]]:
    """{msgid (context\\x04msgid when there is one): [msgstr, …]} of the non-fuzzy entries."""
    entries: dict[str, list[str]] = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip()]
        if any(line.startswith("#,") and "fuzzy" in line for line in lines):
            continue
        fields: dict[str, str] = {}
        current = None
        for line in lines:
            if line.startswith("#"):
                continue
            if line.startswith('"'):
                fields[current] += _unquote(line)
                continue
            key, _, rest = line.partition(" ")
            current = key
            fields[key] = _unquote(rest)
        if "msgid" not in fields or fields["msgid"] == "":
            continue  # the header
        key = fields["msgid"] if "msgctxt" not in fields else f"{fields['msgctxt']}\x04{fields['msgid']}"
        strs = [v for k, v in sorted(fields.items()) if k.startswith("msgstr")]
        entries[key] = strs
    return entries


# --- what the code marks for translation ----------------------------------------------------


def python_msgids() -> set[str]:
    found = set()
    for folder in SOURCES:
        for path in folder.rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
                if name not in GETTEXT_CALLS:
                    continue
                args = node.args[1:] if name.startswith("pgettext") else node.args
                if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
                    msgid = args[0].value
                    if name.startswith("pgettext"):
                        msgid = f"{node.args[0].value}\x04{msgid}"
                    found.add(msgid)
    return found


TRANSLATE_TAG = re.compile(r"""\{%\s*(?:translate|trans)\s+(["'])(.*?)\1""", re.S)
BLOCK_TAG = re.compile(r"\{%\s*blocktrans(?:late)?\b(.*?)%\}(.*?)\{%\s*endblocktrans(?:late)?\s*%\}", re.S)


def template_msgids() -> set[str]:
    found = set()
    for folder in SOURCES:
        for path in folder.rglob("*.html"):
            text = path.read_text(encoding="utf-8")
            found |= {m.group(2) for m in TRANSLATE_TAG.finditer(text)}
            for options, body in BLOCK_TAG.findall(text):
                singular = re.split(r"\{%\s*plural\s*%\}", body)[0]
                if "trimmed" in options:
                    singular = " ".join(line.strip() for line in singular.strip().splitlines())
                found.add(re.sub(r"\{\{\s*(\w+)\s*\}\}", r"%(\1)s", singular))
    return found


def marked_chinese() -> set[str]:
    return {m for m in python_msgids() | template_msgids() if CJK.search(m)}


# --- the tests ---------------------------------------------------------------------------------


def test_every_marked_string_has_an_english_translation():
    po = read_po(LOCALE / "django.po")
    missing = sorted(m for m in marked_chinese() if m not in po)
    untranslated = sorted(m for m, strs in po.items() if not all(s.strip() for s in strs))
    # Chinese left in an English text only where it is copied from the source as an example
    # (a document number format staff type as is: 肇市监规字[2020]1号)
    still_chinese = sorted(
        m
        for m, strs in po.items()
        if any(run not in m for s in strs for run in re.findall(r"[\u4e00-\u9fff]+", s))
    )
    assert (missing, untranslated, still_chinese) == ([], [], []), (
        "run `make messages`, then translate what it adds to fundmgr/locale/en/LC_MESSAGES/django.po"
    )


def test_the_compiled_catalogue_is_the_po_file():
    with open(LOCALE / "django.mo", "rb") as fh:
        compiled = gettext.GNUTranslations(fh)._catalog  # noqa: SLF001 (the parsed .mo)
    po = read_po(LOCALE / "django.po")
    flat = {}
    for msgid, strs in po.items():
        if len(strs) == 1:
            flat[msgid] = strs[0]
        else:
            for i, text in enumerate(strs):
                flat[(msgid, i)] = text
    singular_keys = {k for k in compiled if isinstance(k, str) and k}
    assert {k: compiled[k] for k in singular_keys} == {k: v for k, v in flat.items() if isinstance(k, str)}, (
        "run `make messages` (compilemessages) after editing the .po"
    )


class _Chrome(HTMLParser):
    """The text of what the product itself says on a page (headings, labels, table headers,
    buttons, links in the header and menus, messages), not the data it shows."""

    CHROME_TAGS = {"h1", "label", "th", "button", "caption", "legend"}
    CHROME_IDS = {"header", "nav-sidebar", "user-tools"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("lang") and tag == "button":  # the language switch names its language
            self.stack.append((tag, False))
            return
        inside = bool(self.stack and self.stack[-1][1])
        chrome = inside or tag in self.CHROME_TAGS or attrs.get("id") in self.CHROME_IDS
        if tag == "th" and any(t == "tbody" for t, _ in self.stack):
            chrome = inside  # a row's first cell is data (the object's name)
        if tag == "input" and attrs.get("type") == "submit" and attrs.get("value"):
            self.texts.append(attrs["value"])
        if tag not in {"br", "img", "input", "meta", "link", "hr"}:
            self.stack.append((tag, chrome))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self.stack and self.stack[-1][1] and data.strip():
            self.texts.append(data.strip())


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["officer", "admin"])
def test_the_admin_in_english_speaks_english(personas, persona):
    from django.contrib import admin

    client = Client()
    client.force_login(personas.user(persona))
    client.post(reverse("set_language"), {"language": "en", "next": "/admin/"})
    pages = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():  # noqa: SLF001
        if model_admin.has_view_permission(type("R", (), {"user": personas.user(persona)})()):
            opts = model._meta
            pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    chinese = {}
    for url in pages:
        response = client.get(url)
        if response.status_code != 200:
            continue
        parser = _Chrome()
        parser.feed(response.content.decode())
        found = sorted({t for t in parser.texts if CJK.search(t)})
        if found:
            chinese[url] = found
    assert chinese == {}
