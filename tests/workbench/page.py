"""The start page as a person reads it: each queue card's count, badges and rows, the recent
steps, the apps listed. Parsed from the HTML with Django's own test parser."""

from __future__ import annotations

from dataclasses import dataclass

from django.test.html import Element, parse_html


def _attrs(el: Element) -> dict:
    return dict(el.attributes)


def _classes(el: Element) -> set[str]:
    return set((_attrs(el).get("class") or "").split())


def find_all(el, match) -> list[Element]:
    found = []
    if isinstance(el, str):
        return found
    if match(el):
        found.append(el)
    for child in el.children:
        found.extend(find_all(child, match))
    return found


def by_id(root, id_: str) -> Element | None:
    found = find_all(root, lambda e: _attrs(e).get("id") == id_)
    return found[0] if found else None


def by_class(root, name: str) -> list[Element]:
    return find_all(root, lambda e: name in _classes(e))


def text(el) -> str:
    if isinstance(el, str):
        return el
    return " ".join(t for t in (text(c) for c in el.children) if t).strip()


@dataclass
class Row:
    reference: str
    href: str | None
    party: str
    amount: str
    date: str
    countdown: str
    tone: str


@dataclass
class Card:
    title: str
    href: str | None
    count: int
    late: str | None
    soon: str | None
    rows: list[Row]
    text: str


def card(root, key: str) -> Card | None:
    el = by_id(root, f"queue-{key}")
    if el is None:
        return None
    heading = find_all(el, lambda e: e.name == "h2")[0]
    links = find_all(heading, lambda e: e.name == "a")
    rows = []
    for tr in find_all(el, lambda e: e.name == "tr")[1:]:  # the first is the header
        reference = find_all(tr, lambda e: e.name == "th")[0]
        ref_links = find_all(reference, lambda e: e.name == "a")
        amount = by_class(tr, "amount")
        countdown = by_class(tr, "countdown")[0]
        rows.append(
            Row(
                reference=text(reference),
                href=_attrs(ref_links[0]).get("href") if ref_links else None,
                party=text(by_class(tr, "party")[0]),
                amount=text(amount[0]) if amount else "",
                date=text(by_class(tr, "date")[0]),
                countdown=text(countdown),
                tone=(_classes(countdown) - {"countdown"}).pop(),
            )
        )
    late, soon = by_class(heading, "late"), by_class(heading, "soon")
    return Card(
        title=text(links[0]) if links else text(heading).split()[0],
        href=_attrs(links[0]).get("href") if links else None,
        count=int(text(by_class(heading, "workqueue-count")[0])),
        late=text(late[0]) if late else None,
        soon=text(soon[0]) if soon else None,
        rows=rows,
        text=text(el),
    )


def cards(root) -> list[str]:
    """The queue keys on the page, in order."""
    return [_attrs(e)["id"].removeprefix("queue-") for e in by_class(root, "workqueue")]


def apps(root) -> list[str]:
    """The app labels listed on the index (each app module's class is `app-<label>`)."""
    labels = []
    for el in find_all(root, lambda e: any(c.startswith("app-") for c in _classes(e))):
        labels.extend(c.removeprefix("app-") for c in _classes(el) if c.startswith("app-"))
    return list(dict.fromkeys(labels))


def recent(root) -> list[str]:
    module = by_id(root, "recent-actions-module")
    return [text(li) for li in find_all(module, lambda e: e.name == "li")] if module else []


def recent_links(root) -> list[str]:
    module = by_id(root, "recent-actions-module")
    return [_attrs(a)["href"] for a in find_all(module, lambda e: e.name == "a")] if module else []


def index(client):
    response = client.get("/admin/")
    assert response.status_code == 200
    return parse_html(response.content.decode())
