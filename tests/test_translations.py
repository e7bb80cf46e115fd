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


# --- no Chinese text the catalogue cannot see ------------------------------------------------

# Calls whose first string argument is catalogued (makemessages' keywords): UI text translated
# when shown, and (gettext_noop) text recorded in the default language (fundmgr/ground/lib/i18n.py).
MARKING_CALLS = GETTEXT_CALLS | {"gettext_noop", "npgettext", "npgettext_lazy"}

# Chinese literals that are data, not UI text: "path" or "path:name" (the enclosing function or
# class, or the name a module- or class-level assignment binds) → why.
CHINESE_DATA = {
    "fundmgr/ground/lib/regions.py": "the administrative division names (GB/T 2260), matched and stored as data",
    "fundmgr/ground/lib/identifiers.py:CERTIFICATE_NUMBER_SUFFIX": "certificate wording stripped from input",
    "fundmgr/ground/lib/identifiers.py:TRADEMARK_CERTIFICATE_PREFIXES": "certificate wording stripped from input",
    "fundmgr/ground/lib/identifiers.py:SOFTWARE_COPYRIGHT_CERTIFICATE_PREFIXES": "certificate wording stripped from input",
    "banks/models.py:_COMPANY_FORMS": "company forms removed from institution names",
    "banks/models.py:_RURAL_BANK_NAMES": "the long and short form replaced in institution names",
    "fundmgr/settings.py:LANGUAGES": "each language named in itself, as the language switch shows it",
    "fundmgr/settings.py:SPECTACULAR_SETTINGS": "the system's Chinese name beside its English one in the API document",
    "fundmgr/top/demo/__init__.py:SEED_DOCUMENT_REF": "demo data: the seeded policy versions' document reference",
    "fundmgr/top/demo/__init__.py:SEED_CONTRIBUTION_MEMO": "demo data: the seeded contributions' ledger memo",
    "fundmgr/top/demo/history.py:ENTERPRISES": "demo data: the story's enterprise names",
    "fundmgr/top/demo/history.py:REFUSED_ENTERPRISE": "demo data: the refused applicant's name",
    "fundmgr/top/demo/history.py:_Story": "demo data: what the story's people write (comments, reasons, memos, refs)",
    "fundmgr/top/demo/history.py:HONOURS": "demo data: the honours' titles staff record",
    "fundmgr/top/demo/history.py:NEEDS": "demo data: the financing needs' purposes",
    "fundmgr/top/demo/history.py:NEED_FILED_PURPOSE": "demo data: a financing need's purpose",
    "fundmgr/top/demo/history.py:NEED_WITHDRAWN_REASON": "demo data: the reason a need was withdrawn",
    "fundmgr/top/demo/history.py:MEETINGS": "demo data: the notes of the matchmaking meetings",
    "fundmgr/top/demo/history.py:OUTREACH_EVENTS": "demo data: the events' titles, places and organisers",
    "fundmgr/top/demo/history.py:SIGNING_NOTE": "demo data: an on-site signing's note",
    "fundmgr/top/demo/scale.py": "demo data: the province-scale generator's city, bank, enterprise and patent names",
    "fundmgr/top/books/sample.py": "generated sample books (bench, tests): enterprise, bank and product names, memos",
    "fundmgr/top/books/reader.py:DATE_SEPARATORS": "separators of a date typed as text, matched in input",
}

SCANNED = [ROOT / "fundmgr", ROOT / "enterprises", ROOT / "banks", ROOT / "loans", ROOT / "matching"]


def _docstring_nodes(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
        elif isinstance(node, ast.Dict):  # the "__doc__" of a class made with type()
            found |= {
                id(value)
                for key, value in zip(node.keys, node.values, strict=True)
                if isinstance(key, ast.Constant) and key.value == "__doc__"
            }
    return found


def _marked_nodes(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if name in MARKING_CALLS:
                found |= {id(arg) for arg in node.args if isinstance(arg, ast.Constant)}
    return found


class _ChineseLiterals(ast.NodeVisitor):
    """Every str constant or f-string holding CJK, with the names that may allowlist it."""

    def __init__(self, skip: set[int]) -> None:
        self.skip = skip
        self.scope: list[str] = []
        self.found: list[tuple[int, str, set[str]]] = []

    def _scoped(self, node):
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scoped

    def _assigned(self, node):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = {t.id for t in targets if isinstance(t, ast.Name)}
        self.scope.extend(sorted(names))
        self.generic_visit(node)
        del self.scope[len(self.scope) - len(names) :]

    visit_Assign = visit_AnnAssign = _assigned

    def visit_JoinedStr(self, node):
        text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        if CJK.search(text):
            self.found.append((node.lineno, f"f{text!r}", set(self.scope)))
        else:
            self.generic_visit(node)

    def visit_Constant(self, node):
        if isinstance(node.value, str) and CJK.search(node.value) and id(node) not in self.skip:
            self.found.append((node.lineno, repr(node.value), set(self.scope)))


def unmarked_chinese(paths, root: Path = ROOT) -> list[str]:
    """`file:line: literal` for every Chinese literal in `paths` that is neither a docstring,
    nor marked for the catalogue, nor declared in CHINESE_DATA."""
    failures = []
    for path in paths:
        rel = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        visitor = _ChineseLiterals(_docstring_nodes(tree) | _marked_nodes(tree))
        visitor.visit(tree)
        for line, literal, names in visitor.found:
            if rel in CHINESE_DATA or any(f"{rel}:{name}" in CHINESE_DATA for name in names):
                continue
            failures.append(f"{rel}:{line}: {literal}")
    return failures


def shipped_python(folders=SCANNED):
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            if not {"migrations", "tests"} & set(path.relative_to(ROOT).parts):
                yield path


def test_no_unmarked_chinese_literals():
    """Every Chinese literal in shipped code is a docstring, marked for the catalogue (gettext*,
    pgettext*, ngettext*, gettext_noop) or declared data in CHINESE_DATA; the failure lists
    file:line and the literal."""
    failures = unmarked_chinese(shipped_python())
    assert not failures, "Chinese text not marked for translation:\n" + "\n".join(failures)


def test_the_unmarked_chinese_check_sees_what_it_should(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""模块说明"""\n'
        "from django.utils.translation import gettext as _, gettext_noop\n"
        "def f(n):\n"
        '    """函数说明"""\n'
        '    ok = _("已标记 %(n)s") % {"n": n}\n'
        '    kept = gettext_noop("存档文字")\n'
        '    bad = "未标记"\n'
        '    return f"共 {n} 笔"\n',
        encoding="utf-8",
    )
    assert unmarked_chinese([sample], root=tmp_path) == ["sample.py:7: '未标记'", "sample.py:8: f'共  笔'"]


# --- the API in the language asked for; what is recorded stays Chinese ---------------------------


def test_recorded_text_is_in_the_default_language_whatever_the_active_one():
    from django.utils import translation
    from django.utils.translation import gettext_lazy, gettext_noop

    from fundmgr.ground.lib.i18n import recorded

    kind = gettext_lazy("发明专利")
    with translation.override("en"):
        assert str(kind) == "Invention patent"
        assert recorded(gettext_noop("逾期%(days)s天"), days=95) == "逾期95天"
        assert recorded(gettext_noop("%(label)s未提供"), label=kind) == "发明专利未提供"


def _texts(problem: dict) -> list[str]:
    return [problem["title"], problem["detail"], *(e["message"] for e in problem["errors"])]


@pytest.mark.django_db
def test_the_api_answers_a_refusal_in_the_language_asked_for(personas, business_date):
    from tests.factories import filing_body

    business_date("2026-11-21")
    bank = personas.client("bank_a")
    too_dear = filing_body(annual_rate="9.0000")  # above the fund's rate cap
    chinese = bank.post("/api/v1/filings/", too_dear, format="json")
    english = bank.post("/api/v1/filings/", too_dear, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert chinese.status_code == english.status_code == 422
    zh, en = chinese.json(), english.json()
    assert zh["code"] == en["code"] == "filing_refused"
    assert [(e["code"], e["field"]) for e in en["errors"]] == [(e["code"], e["field"]) for e in zh["errors"]]
    assert zh["title"] == "请求被业务规则拒绝"
    assert zh["detail"].startswith("备案未通过自动校验：年利率不超过")
    assert en["title"] == "Refused by a business rule"
    assert en["detail"].startswith("The filing failed the automatic checks: Annual rate of at most")
    assert [t for t in _texts(en) if CJK.search(t)] == []
    assert english["Content-Language"] == "en" and chinese["Content-Language"] == "zh-hans"


@pytest.mark.django_db
def test_text_recorded_during_an_english_request_stays_chinese(personas, business_date):
    from tests.factories import filing_body

    business_date("2026-11-21")
    bank = personas.client("bank_a")
    response = bank.post("/api/v1/filings/", filing_body(), format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 201, response.content
    body = response.json()
    # The checks and the transition log are stored with the filing: the same Chinese text
    # whoever filed it, in whatever language.
    messages = {c["code"]: c["message"] for c in body["checks"]}
    assert messages["fund_not_active"] == "资金处于运行期"
    assert all(CJK.search(m) for m in messages.values()), messages
    assert [entry["comment"] for entry in body["history"]] == ["提交贷款备案"]
    # The same loan's rights filed again: refused, in English.
    again = bank.post("/api/v1/filings/", filing_body(), format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 422 and [t for t in _texts(again.json()) if CJK.search(t)] == []
