"""A person in a real browser (headless Chromium over WebDriver) signs in to FTS's participant
account through ESIA — password, SMS code, consent — chooses their organisation and sees its
declarations only; then opens FGIS UTKO's account (ESIA's session still open), chooses the same
organisation, registers it on this first sign-in (INN, consent) and logs out of both.

Skipped only when Chromium is absent; CI installs it with ``apt-get install -y chromium
chromium-driver``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from account_browser_steps import register_first_login
from account_people import api_token, seed_organisation, seed_person, submit_declaration
from gosstand.scenarios.control import StackControl
from gosstand.stand.ports import free_port
from gosstand.stand.stack import EmbeddedStack
from webdriver import INSTALL_HINT, Browser, chromium_paths

pytestmark = [
    pytest.mark.stack,
    pytest.mark.slow,
    pytest.mark.skipif(chromium_paths() is None, reason=f"chromium is not installed ({INSTALL_HINT})"),
]


@pytest.fixture(scope="module")
def stack() -> Iterator[EmbeddedStack]:
    with EmbeddedStack(replicas=1).start() as running:
        yield running


def _through_esia(browser: Browser, control: StackControl, person, *, back_to: str) -> None:
    """ESIA's pages as a person goes through them: the password, the SMS code, the consent."""
    browser.wait_for(lambda b: "/aas/oauth2/login" in b.url, "ESIA's login page")
    browser.fill("#login", person.phone)
    browser.fill("#password", person.password)
    browser.click("button[type=submit]")
    browser.wait_for(lambda b: "/aas/oauth2/otp" in b.url, "the SMS code page")
    browser.fill("#code", control.read_sms(person.phone))
    browser.click("button[type=submit]")
    _consent_if_asked(browser, back_to=back_to)


def _consent_if_asked(browser: Browser, *, back_to: str) -> None:
    browser.wait_for(lambda b: "/aas/oauth2/consent" in b.url or b.url.startswith(back_to), "leaving ESIA")
    if "/aas/oauth2/consent" in browser.url:
        assert "Организации и роли в них" in browser.text("main")
        browser.click("button[value=allow]")
    browser.wait_for(lambda b: b.url.startswith(back_to + "/account/choose"), "the choice of whom to act for")


def test_a_person_signs_in_to_fts_and_utko_chooses_their_organisation_and_registers_it(stack):
    control = StackControl(stack.urls, stack.control_token)
    fts, utko = stack.urls["fts"], stack.urls["utko"]
    person, outsider = seed_person(control, seed=71), seed_person(control, seed=72)
    firm = seed_organisation(control, seed=73, employees=[{"oid": person.oid, "role": "employee"}])
    other = seed_organisation(control, seed=74, employees=[{"oid": outsider.oid, "role": "employee"}])
    mine = submit_declaration(stack, api_token(stack, control, person), firm)
    submit_declaration(stack, api_token(stack, control, outsider), other)

    with Browser(port=free_port()) as browser:
        browser.open(f"{fts}/login")
        _through_esia(browser, control, person, back_to=fts)
        assert "Выберите, от чьего имени вы будете работать" in browser.text("main")
        browser.click(f'button[data-choice="org:{firm["oid"]}"]')
        browser.wait_for(lambda b: b.url == f"{fts}/account", "FTS's list")
        assert firm["shortName"] in browser.text("#acting")
        listed = browser.text("#list")
        assert mine["procedure"]["code"] in listed and len(listed.splitlines()) == 2  # the heading and one row

        browser.open(f"{utko}/login")  # ESIA's session is open: no password this time
        _consent_if_asked(browser, back_to=utko)
        register_first_login(browser, utko, org_oid=firm["oid"], identifier=firm["inn"], person_oid=person.oid)

        browser.click("#logout")
        browser.wait_for(lambda b: b.url == f"{utko}/logged-out", "the logged-out page")
        browser.open(f"{fts}/account")  # FTS's own session is still there …
        browser.wait_for(lambda b: b.url == f"{fts}/account", "FTS's list")
        browser.click("#logout")
        browser.wait_for(lambda b: b.url == f"{fts}/logged-out", "the logged-out page")
        browser.open(f"{fts}/login")  # … and ESIA's session ended with the first logout
        browser.wait_for(lambda b: "/aas/oauth2/login" in b.url, "ESIA's login page again")
