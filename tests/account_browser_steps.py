"""Steps a person takes in UTKO's personal account in Chromium, shared by the browser tests of
the password and the signature sign-in: what follows the sign-in is the same whichever way in."""

from __future__ import annotations

from webdriver import Browser


def register_first_login(browser: Browser, utko_url: str, *, org_oid: int, identifier: str, person_oid: int) -> None:
    """Choose the organisation, register it in the FGIS by ``identifier`` (its INN or OGRN) and
    agree to the processing of personal data; the account's list opens with the consent recorded
    under the person's OID and the person as the organisation's administrator."""
    browser.click(f'button[data-choice="org:{org_oid}"]')
    browser.wait_for(lambda b: b.url == f"{utko_url}/account/registration", "UTKO's first-login registration")
    browser.fill("#identifier", identifier)
    browser.click("form.main button[type=submit]")
    browser.wait_for(lambda b: b.url == f"{utko_url}/account/registration/consent", "the consent page")
    assert "152-ФЗ" in browser.text("#consent-text")
    browser.click("button[value=agree]")
    browser.wait_for(lambda b: b.url == f"{utko_url}/account", "UTKO's list")
    assert f"OID {person_oid}" in browser.text("#consent")
    assert browser.text("#role") == "Администратор"
