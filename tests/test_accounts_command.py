"""``gosstand accounts``: what registers FTS's and UTKO's personal accounts with ESIA where no stack
runner does (the Compose file's one-shot container), and the replicas' internal address of ESIA
(``GOSSTAND_ESIA_INTERNAL_URL``) that their own requests to ESIA take when browsers use another."""

from __future__ import annotations

import pytest
from account_people import seed_person
from gosstand.mocks.accounts.client_keys import AccountKeys
from gosstand.mocks.accounts.esia_requests import EsiaClient
from gosstand.mocks.core.settings import Settings
from gosstand.mocks.crypto import gost
from gosstand.scenarios import accounts
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.esia_login import EsiaJourneyError
from gosstand.scenarios.http import HttpxClient
from gosstand.stand.ports import free_port

from gosstand.cli import main as gosstand

needs_gost = pytest.mark.skipif(not gost.available(), reason="no gost engine: the accounts cannot sign")


def _sign_in(stack, control: StackControl, person) -> str:
    with HttpxClient() as browser:
        return accounts.sign_in(browser, account_url=stack.urls["fts"], esia_url=stack.urls["esia"],
                                login=person.phone, password=person.password, read_sms=control.read_sms).location


@needs_gost
def test_the_command_registers_the_accounts_an_esia_had_forgotten(gosstand_inprocess, capsys) -> None:
    stack = gosstand_inprocess
    control = StackControl(stack.urls, stack.control_token)
    control.reset("esia")  # ESIA as a fresh Compose or Kubernetes stand has it: no client system FTSLK
    person = seed_person(control, seed=81)
    with pytest.raises(EsiaJourneyError, match="ESIA-007002: Client FTSLK is not registered"):
        _sign_in(stack, control, person)
    assert gosstand(["accounts", "--esia-url", stack.urls["esia"], "--account", f"fts={stack.urls['fts']}",
                     "--account", f"utko={stack.urls['utko']}", "--keys-dir", str(stack.state_dir / "esia-keys"),
                     "--control-token", stack.control_token, "--wait", "5"]) == 0
    assert "FTSLK, UTKOLK" in capsys.readouterr().out
    assert _sign_in(stack, control, person) == "/account/choose"


def test_the_command_fails_closed_when_esia_never_answers_or_the_input_is_wrong(tmp_path, capsys) -> None:
    silent = f"http://127.0.0.1:{free_port()}"
    common = ["--esia-url", silent, "--keys-dir", str(tmp_path), "--control-token", "t", "--wait", "0"]
    assert gosstand(["accounts", *common, "--account", "fts:http://x"]) == 2
    assert "expected SERVICE=URL" in capsys.readouterr().err
    if gost.available():
        assert gosstand(["accounts", *common, "--account", "esia=http://x"]) == 1
        assert "no personal account for esia" in capsys.readouterr().err
        assert gosstand(["accounts", *common, "--account", "fts=http://127.0.0.1:8002"]) == 1
        assert f"ESIA at {silent} was not healthy" in capsys.readouterr().err


def test_the_replicas_own_requests_go_to_the_internal_address_browsers_to_the_public_one() -> None:
    environ = {"GOSSTAND_SERVICE": "fts", "GOSSTAND_CONTROL_TOKEN": "t", "GOSSTAND_ESIA_URL": "http://127.0.0.1:8000",
               "GOSSTAND_ESIA_INTERNAL_URL": "http://haproxy:8000/"}
    settings = Settings.from_env(environ)
    assert settings.esia_server_url == "http://haproxy:8000"
    assert Settings.from_env(settings.to_env()).esia_server_url == "http://haproxy:8000"  # reaches child replicas
    assert Settings.from_env({**environ, "GOSSTAND_ESIA_INTERNAL_URL": ""}).esia_server_url == "http://127.0.0.1:8000"
    client = EsiaClient(esia_url=settings.esia_url, server_url=settings.esia_server_url, client_id="FTSLK",
                        redirect_uri="http://127.0.0.1:8002/login/callback", scope="openid",
                        keys=AccountKeys.__new__(AccountKeys))
    assert client.token_url.startswith("http://haproxy:8000/")
    assert client.logout_url("http://127.0.0.1:8002/logged-out").startswith("http://127.0.0.1:8000/")
