"""The forms and links of an HTML page, read with the standard library's parser, so a journey
can act on a page it was not written for — a target's own personal account — the way a person
does: by what its buttons and links say and where they lead, not by paths agreed in advance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

__all__ = ["Form", "Link", "read_page"]

#: Pages longer than this are read only this far (a personal account's page is a few kB).
MAX_PAGE_CHARS = 2_000_000


@dataclass
class Form:
    """A form: where it posts (absolute), how, the values it sends as it stands, and its text."""

    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    text: str = ""


@dataclass(frozen=True, slots=True)
class Link:
    href: str
    text: str


class _Reader(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.forms: list[Form] = []
        self.links: list[Link] = []
        self._form: Form | None = None
        self._link: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._form = Form(action=urljoin(self.base_url, named.get("action") or self.base_url),
                              method=(named.get("method") or "get").upper())
            self.forms.append(self._form)
        elif tag == "a" and named.get("href"):
            self._link = (urljoin(self.base_url, named["href"]), [])
        elif tag in ("input", "button") and self._form is not None and named.get("name"):
            kind = named.get("type", "submit" if tag == "button" else "text").lower()
            if kind not in ("submit", "checkbox", "radio", "image", "file"):
                self._form.fields.append((named["name"], named.get("value", "")))
        if tag in ("input", "button") and self._form is not None and named.get("value") and \
                named.get("type", "submit" if tag == "button" else "text").lower() == "submit":
            self._form.text += f" {named['value']}"

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "a" and self._link is not None:
            self.links.append(Link(self._link[0], " ".join("".join(self._link[1]).split())))
            self._link = None

    def handle_data(self, data: str) -> None:
        if self._form is not None:
            self._form.text += data
        if self._link is not None:
            self._link[1].append(data)


def read_page(page: str, base_url: str) -> tuple[list[Form], list[Link]]:
    """The forms and links of ``page`` (fetched from ``base_url``), in document order."""
    reader = _Reader(base_url)
    reader.feed(page[:MAX_PAGE_CHARS])
    reader.close()
    for form in reader.forms:
        form.text = " ".join(form.text.split())
    return reader.forms, reader.links
