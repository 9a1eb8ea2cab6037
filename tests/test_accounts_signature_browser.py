"""A person in a real browser (headless Chromium over WebDriver) signs in to FTS's and to FGIS
UTKO's personal accounts with an electronic signature instead of the password and SMS code:
opens the account, goes to ESIA, chooses "Электронная подпись", signs the challenge the page
shows — the OpenSSL command line with the gost engine plays the signature plug-in, sharing no
code with ESIA's verifier — pastes the signature, comes back, chooses their organisation
(registering it in UTKO on this first sign-in) and sees only its records.

Skipped only when Chromium, or GOST in OpenSSL, is absent; CI installs them with ``apt-get
install -y chromium chromium-driver libengine-gost-openssl``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from account_browser_steps import register_first_login
from account_people import Employee, api_token, seed_organisation, seed_person, submit_declaration
from gosstand.scenarios import utko
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.gost import gost_ready
from gosstand.scenarios.http import HttpxClient
from gosstand.scenarios.identities import russian_faker
from gosstand.stand.ports import free_port
from gosstand.stand.stack import EmbeddedStack
from openssl_signer import OpensslSigner, openssl_gost_missing
from webdriver import INSTALL_HINT, Browser, chromium_paths

pytestmark = [
    pytest.mark.stack,
    pytest.mark.slow,
    pytest.mark.skipif(chromium_paths() is None, reason=f"chromium is not installed ({INSTALL_HINT})"),
    pytest.mark.skipif(bool(gost_ready() or openssl_gost_missing()),
                       reason=str(gost_ready() or openssl_gost_missing())),
]


@pytest.fixture(scope="module")
def stack() -> Iterator[EmbeddedStack]:
    with EmbeddedStack(replicas=1).start() as running:
        yield running


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with Browser(port=free_port()) as started:
        yield started


@pytest.fixture
def browser(chromium: Browser, stack: EmbeddedStack) -> Browser:
    """The module's browser without the last test's ESIA session."""
    chromium.open(f"{stack.urls['esia']}/_gosstand/health")
    chromium.clear_cookies()
    return chromium


@pytest.fixture
def control(stack: EmbeddedStack) -> StackControl:
    return StackControl(stack.urls, stack.control_token)


def _sign_at_esia(browser: Browser, sign: Callable[[bytes], bytes], *, back_to: str) -> None:
    """ESIA's pages with a signature: "Электронная подпись", the challenge signed and pasted, the
    consent when asked; then back at the account's choice of whom to act for."""
    browser.wait_for(lambda b: "/aas/oauth2/login" in b.url, "ESIA's login page")
    browser.click('a[href^="/aas/oauth2/signature"]')
    browser.wait_for(lambda b: "/aas/oauth2/signature" in b.url, "the signature page")
    challenge = browser.text("#challenge")
    browser.paste("#signature", base64.b64encode(sign(challenge.encode())).decode())
    browser.click("button[type=submit]")
    browser.wait_for(lambda b: "/aas/oauth2/consent" in b.url or b.url.startswith(back_to), "leaving ESIA")
    if "/aas/oauth2/consent" in browser.url:
        browser.click("button[value=allow]")
    browser.wait_for(lambda b: b.url.startswith(back_to + "/account/choose"), "the choice of whom to act for")


def _people(control: StackControl, seed: int) -> tuple[Employee, dict, dict, Employee]:
    """A person employed by a firm, and an outsider with a firm of their own."""
    person, outsider = seed_person(control, seed=seed), seed_person(control, seed=seed + 1)
    firm = seed_organisation(control, seed=seed + 2, employees=[{"oid": person.oid, "role": "employee"}])
    other = seed_organisation(control, seed=seed + 3, employees=[{"oid": outsider.oid, "role": "employee"}])
    return person, firm, other, outsider


def test_chromium_signs_in_to_fts_with_a_signature_and_sees_its_organisations_declarations_only(
        stack, control, browser, tmp_path: Path):
    fts = stack.urls["fts"]
    person, firm, other, outsider = _people(control, seed=611)
    mine = submit_declaration(stack, api_token(stack, control, person), firm)
    submit_declaration(stack, api_token(stack, control, outsider), other)
    sent_before = len(control.sms_messages(person.phone))
    issued = control.issue_certificate(person.oid)  # the person's own qualified certificate
    sign = OpensslSigner(tmp_path)(issued["certificate"], issued["private_key"])

    browser.open(f"{fts}/login")
    _sign_at_esia(browser, sign, back_to=fts)
    assert "Выберите, от чьего имени вы будете работать" in browser.text("main")
    browser.click(f'button[data-choice="org:{firm["oid"]}"]')
    browser.wait_for(lambda b: b.url == f"{fts}/account", "FTS's list")
    assert firm["shortName"] in browser.text("#acting")
    listed = browser.text("#list")
    assert mine["procedure"]["code"] in listed and len(listed.splitlines()) == 2  # the heading and one row
    assert len(control.sms_messages(person.phone)) == sent_before  # no password, no SMS code

    browser.click("#logout")
    browser.wait_for(lambda b: b.url == f"{fts}/logged-out", "the logged-out page")


def test_chromium_signs_in_to_utko_with_an_employees_certificate_and_registers_the_organisation(
        stack, control, browser, tmp_path: Path):
    utko_url = stack.urls["utko"]
    person, firm, other, outsider = _people(control, seed=621)
    with HttpxClient() as http:
        for filer, organisation in ((person, firm), (outsider, other)):
            party = {"inn": organisation["inn"], "kpp": organisation["kpp"]}
            utko.register_object(http, utko_url=utko_url, token=api_token(stack, control, filer),
                                 obj=utko.sample_object(russian_faker(seed=organisation["oid"] % 1000),
                                                        operator=party))
    issued = control.issue_certificate(person.oid, org_oid=firm["oid"])  # OGRN and INNLE in its subject
    sign = OpensslSigner(tmp_path)(issued["certificate"], issued["private_key"])

    browser.open(f"{utko_url}/login")
    _sign_at_esia(browser, sign, back_to=utko_url)
    register_first_login(browser, utko_url, org_oid=firm["oid"], identifier=firm["ogrn"], person_oid=person.oid)
    assert len(browser.text("#list").splitlines()) == 2  # the heading and the firm's one object

    # The organisation lets the person go: the same certificate no longer signs them in.
    browser.click("#logout")
    browser.wait_for(lambda b: b.url == f"{utko_url}/logged-out", "the logged-out page")
    control.remove_employee(firm["oid"], person.oid)
    browser.open(f"{utko_url}/login")
    browser.wait_for(lambda b: "/aas/oauth2/login" in b.url, "ESIA's login page")
    browser.click('a[href^="/aas/oauth2/signature"]')
    browser.wait_for(lambda b: "/aas/oauth2/signature" in b.url, "the signature page")
    browser.paste("#signature", base64.b64encode(sign(browser.text("#challenge").encode())).decode())
    browser.click("button[type=submit]")
    browser.wait_for(lambda b: "ESIA-008012" in b.text("main"), "the refusal")
    assert "/aas/oauth2/signature" in browser.url
