"""The account's pages: plain Russian HTML that works in a real browser without scripts and with
plain form posts from a load generator.

Form contract (what ``scenarios/accounts.py`` and the browser test rely on):

- ``GET /account/choose`` → one form per choice, ``POST /account/choose`` with ``choice``
  (``self`` or ``org:<oid>``), each button ``data-choice`` = that value;
- ``GET /account`` → the list, a table ``#list``; whom the session acts for in ``#acting``;
- ``GET /account/registration`` → form posting ``identifier`` (INN or OGRN);
- ``GET /account/registration/consent`` → ``#consent-text`` and buttons ``decision`` =
  ``agree`` | ``refuse``;
- ``GET /account/roles`` → one form per employee posting ``oid`` and ``role`` (``filer`` | ``reader``);
- every page of a session has a logout form posting to ``/logout`` (``#logout``).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from starlette.responses import HTMLResponse

__all__ = ["page", "message"]

_STYLE = (
    "body{font-family:Lato,Arial,sans-serif;background:#f5f7fa;margin:0}"
    "header{background:#0d4cd3;color:#fff;padding:.8rem 2rem;display:flex;justify-content:space-between}"
    "header form{margin:0}header button{background:#fff;color:#0d4cd3;border:0;padding:.3rem .8rem}"
    "main{max-width:48rem;margin:2rem auto;background:#fff;padding:2rem;border-radius:.5rem}"
    "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}"
    "label{display:block;margin:.8rem 0 .2rem}input[type=text]{width:100%;padding:.5rem;box-sizing:border-box}"
    ".choice button,.actions button,form.main button{margin-top:.6rem;padding:.6rem 1rem;background:#0d4cd3;"
    "color:#fff;border:0;border-radius:.3rem}.error{color:#c00}.secondary{background:#fff!important;"
    "color:#0d4cd3!important;border:1px solid #0d4cd3!important}"
)


def page(system: str, title: str, body: str, *, status: int = 200, signed_in: str | None = None,
         headers: dict[str, str] | None = None) -> HTMLResponse:
    """A whole page of the account ``system``; ``signed_in`` (the person's name) adds the logout form."""
    bar = (f'<span id="person">{escape(signed_in)}</span><form method="post" action="/logout">'
           '<button id="logout" type="submit">Выйти</button></form>') if signed_in else ""
    html = ('<!doctype html><html lang="ru"><head><meta charset="utf-8">'
            f"<title>{escape(title)} — {escape(system)}</title>"
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{_STYLE}</style></head>'
            f"<body><header><strong>{escape(system)}</strong>{bar}</header>"
            f"<main><h1>{escape(title)}</h1>{body}</main></body></html>")
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})


def message(system: str, title: str, text: str, *, status: int, detail: str = "",
            link: tuple[str, str] | None = ("/login", "Войти снова")) -> HTMLResponse:
    """A page that says one thing (a refused sign-in, a finished registration)."""
    small = f'<p><small id="detail">{escape(detail)}</small></p>' if detail else ""
    more = f'<p><a href="{escape(link[0])}">{escape(link[1])}</a></p>' if link else ""
    return page(system, title, f'<p id="message" role="alert">{escape(text)}</p>{small}{more}', status=status)


def table(element_id: str, headings: Sequence[str], rows: Sequence[Sequence[str]], empty: str) -> str:
    if not rows:
        return f'<p id="{element_id}-empty">{escape(empty)}</p><table id="{element_id}"></table>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headings)
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table id="{element_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
