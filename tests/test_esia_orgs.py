"""Person data beyond the basics (``/vhls``, ``/kids``, ``/roles``, ``/orgs``) and
organisations (``/rs/orgs/{org_oid}``) seeded with employees through the control API."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from esia_stand import ESIA, make_stand
from gosstand.scenarios.control import ControlError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ORG = {
    "fullName": "Общество с ограниченной ответственностью «Ромашка»",
    "shortName": "ООО «Ромашка»",
    "ogrn": "1027700132195",
    "inn": "7707083893",
    "kpp": "770701001",
    "type": "LEGAL",
}


@pytest.fixture
def stand(service_client, control_headers):
    return make_stand(service_client, control_headers)


def test_vehicles_and_kids_follow_their_scopes(stand):
    oid = stand.seed(
        vehicles=[
            {"name": "LADA VESTA", "numberPlate": "А123ВС77", "regCertificate": {"series": "77АВ", "number": "123456"}}
        ],
        kids=[
            {
                "firstName": "Олег",
                "lastName": "Иванов",
                "birthDate": "01.02.2015",
                "gender": "M",
                "snils": "11223344595",
            }
        ],
    )
    tokens = stand.login(oid, "openid vehicles kid_fullname kid_birthdate")
    vhls = stand.get(f"/rs/prns/{oid}/vhls", tokens.access_token).json()
    assert vhls["size"] == 1 and vhls["elements"][0].startswith(f"{ESIA}/rs/prns/{oid}/vhls/")
    vehicle = stand.get(vhls["elements"][0].removeprefix(ESIA), tokens.access_token).json()
    assert vehicle["numberPlate"] == "А123ВС77" and vehicle["regCertificate"]["number"] == "123456"
    kids = stand.get(f"/rs/prns/{oid}/kids", tokens.access_token, embed="(elements)").json()
    kid = kids["elements"][0]
    assert (kid["firstName"], kid["birthDate"]) == ("Олег", "01.02.2015")
    assert "snils" not in kid and "gender" not in kid  # kid_snils / kid_gender not granted
    narrow = stand.login(oid, "openid fullname")
    for path in ("vhls", "kids", "roles", "orgs"):
        refused = stand.get(f"/rs/prns/{oid}/{path}", narrow.access_token)
        assert refused.status == 403 and refused.json()["code"] == "ESIA-005029"


def test_seeding_checks_plates_and_kids(stand):
    with pytest.raises(ControlError) as refused:
        stand.seed(
            vehicles=[{"name": "X", "numberPlate": "A123BC77"}],  # Latin look-alikes
            kids=[{"firstName": "Олег", "birthDate": "31.02.2015", "gender": "X"}],
            addresses=[{"type": ["PRG"], "addressStr": "x"}],  # an unhashable type was a 500
        )
    pointers = {e["pointer"] for e in __import__("json").loads(refused.value.body)["errors"]}
    assert {"/vehicles/0/numberPlate", "/kids/0/lastName", "/kids/0/birthDate", "/kids/0/gender",
            "/addresses/0/type"} <= pointers


def test_organisation_roles_are_visible_with_usr_org(stand):
    boss, accountant, clerk = stand.seed(), stand.seed(), stand.seed()
    org = stand.control.create_organisation(
        **ORG,
        employees=[{"oid": boss, "role": "administrator", "chief": True}, {"oid": accountant, "role": "accountant"}],
    )
    stand.control.add_employee(org["oid"], clerk)
    assert [(e["oid"], e["role"]) for e in stand.control.organisation(org["oid"])["employees"]] == [
        (boss, "administrator"),
        (accountant, "accountant"),
        (clerk, "employee"),
    ]

    tokens = stand.login(accountant, "openid fullname usr_org")
    roles = stand.get(f"/rs/prns/{accountant}/roles", tokens.access_token).json()
    assert roles["size"] == 1 and roles["elements"] == [f"{ESIA}/rs/prns/{accountant}/roles/{org['oid']}"]
    role = stand.get(f"/rs/prns/{accountant}/roles/{org['oid']}", tokens.access_token).json()
    assert role == {
        **role,
        "oid": org["oid"],
        "prnOid": accountant,
        "ogrn": ORG["ogrn"],
        "type": "LEGAL",
        "role": "accountant",
        "admin": False,
        "chief": False,
        "active": True,
    }
    orgs = stand.get(f"/rs/prns/{accountant}/orgs", tokens.access_token, embed="(elements)").json()
    assert orgs["elements"][0]["shortName"] == "ООО «Ромашка»"
    root = stand.get(
        f"/rs/prns/{accountant}", tokens.access_token, embed="(organizations.elements,roles.elements)"
    ).json()
    assert root["roles"]["size"] == 1 and root["organizations"]["elements"][0]["oid"] == org["oid"]

    # The organisation itself: registration data for an employee, employees only for its staff.
    data = stand.get(f"/rs/orgs/{org['oid']}", tokens.access_token).json()
    assert (data["inn"], data["kpp"], data["ogrn"]) == (ORG["inn"], ORG["kpp"], ORG["ogrn"])
    assert stand.get(f"/rs/orgs/{org['oid']}/emps", tokens.access_token).status == 403
    chief = stand.login(boss, "openid usr_org")
    emps = stand.get(f"/rs/orgs/{org['oid']}/emps", chief.access_token, embed="(elements)").json()
    assert [(e["prnOid"], e["role"]) for e in emps["elements"]] == [
        (boss, "administrator"),
        (accountant, "accountant"),
        (clerk, "employee"),
    ]
    outsider = stand.login(stand.seed(), "openid usr_org")
    assert stand.get(f"/rs/orgs/{org['oid']}", outsider.access_token).json()["code"] == "ESIA-005029"
    assert stand.get(f"/rs/prns/{outsider.oid}/orgs", outsider.access_token).json()["size"] == 0


def test_organisation_seeding_is_validated(stand):
    with pytest.raises(ControlError) as refused:
        stand.control.create_organisation(
            fullName="ИП Петров",
            type="BUSINESS",
            ogrn="1027700132195",
            inn="7707083893",
            kpp="770701001",
            employees=[{"oid": 1, "role": "boss"}],
        )
    pointers = {e["pointer"] for e in __import__("json").loads(refused.value.body)["errors"]}
    assert {"/ogrn", "/inn", "/kpp", "/employees/0/role"} <= pointers
    with pytest.raises(ControlError) as unknown:
        stand.control.create_organisation(**ORG, employees=[{"oid": 999, "role": "employee"}])
    assert unknown.value.status == 422
    business = stand.control.create_organisation(
        fullName="ИП Петров Пётр Петрович", type="BUSINESS", ogrn="304500116000157", inn="500500123491"
    )
    assert business["type"] == "BUSINESS" and "kpp" not in business
    with pytest.raises(ControlError) as missing:
        stand.control.add_employee(business["oid"] + 1000, stand.seed())
    assert missing.value.status == 404


PREFIX = "http://esia.gosuslugi.ru/"


def _org_scopes(org_oid: int, *names: str) -> str:
    return " ".join(f"{PREFIX}{name}?org_oid={org_oid}" for name in names)


def _client_token(stand, org_oid: int, *names: str) -> str:
    from gosstand.scenarios import esia_login

    return esia_login.organisation_token(stand.http, esia_url=ESIA, rp=stand.rp,
                                         scope=_org_scopes(org_oid, *names)).access_token


@pytest.fixture
def seeded_org(stand):
    from gosstand.scenarios.identities import russian_faker

    record = russian_faker(seed=11).organisation_record(branches=2)
    return record, stand.control.create_organisation(**record)


def test_organisation_collections_follow_their_scopes(stand, seeded_org):
    """Contacts, addresses and branches — and each branch's own contacts and addresses — are
    collections of links back at the server, each opened by its own scope."""
    record, org = seeded_org
    oid = org["oid"]
    token = _client_token(stand, oid, "org_leg", "org_oktmo", "org_ctts", "org_addrs", "org_brhs",
                          "org_brhs_ctts", "org_brhs_addrs")
    root = stand.get(f"/rs/orgs/{oid}", token).json()
    assert (root["leg"], root["oktmo"]) == (record["leg"], record["oktmo"])
    assert "inn" not in root and "contacts" not in root and "branches" not in root

    ctts = stand.get(f"/rs/orgs/{oid}/ctts", token).json()
    assert ctts["stateFacts"] == ["hasSize"] and ctts["size"] == 2
    assert all(link.startswith(f"{ESIA}/rs/orgs/{oid}/ctts/") for link in ctts["elements"])
    contacts = [stand.get(link.removeprefix(ESIA), token).json() for link in ctts["elements"]]
    assert [(c["type"], c["value"]) for c in contacts] == [(c["type"], c["value"]) for c in record["contacts"]]
    assert all(c["stateFacts"] == ["Identifiable"] and c["vrfStu"] == "VERIFIED" for c in contacts)

    addrs = stand.get(f"/rs/orgs/{oid}/addrs", token, embed="(elements)").json()
    assert [a["type"] for a in addrs["elements"]] == ["OLG", "OPS"]
    assert addrs["elements"][0]["addressStr"] == record["addresses"][0]["addressStr"]

    brhs = stand.get(f"/rs/orgs/{oid}/brhs", token, embed="(elements)").json()
    assert [b["kpp"] for b in brhs["elements"]] == [b["kpp"] for b in record["branches"]]
    assert all("contacts" not in b and "addresses" not in b for b in brhs["elements"])
    branch = brhs["elements"][1]
    assert stand.get(f"/rs/orgs/{oid}/brhs/{branch['id']}", token).json() == branch
    phones = stand.get(f"/rs/orgs/{oid}/brhs/{branch['id']}/ctts", token, embed="(elements)").json()
    assert [p["value"] for p in phones["elements"]] == [record["branches"][1]["contacts"][0]["value"]]
    addresses = stand.get(f"/rs/orgs/{oid}/brhs/{branch['id']}/addrs", token).json()
    assert addresses["size"] == 1
    assert addresses["elements"][0].startswith(f"{ESIA}/rs/orgs/{oid}/brhs/{branch['id']}/addrs/")
    one = stand.get(addresses["elements"][0].removeprefix(ESIA), token).json()
    assert one["addressStr"] == record["branches"][1]["addresses"][0]["addressStr"]


def test_organisation_collections_refuse_what_is_not_granted_or_not_there(stand, seeded_org):
    _, org = seeded_org
    oid = org["oid"]
    only_branches = _client_token(stand, oid, "org_brhs")
    for path in ("ctts", "addrs", "emps"):
        refused = stand.get(f"/rs/orgs/{oid}/{path}", only_branches)
        assert (refused.status, refused.json()["code"]) == (403, "ESIA-005029"), path
    branch_id = stand.get(f"/rs/orgs/{oid}/brhs", only_branches, embed="(elements)").json()["elements"][0]["id"]
    for path in ("ctts", "addrs"):  # a branch's own collections need org_brhs_ctts / org_brhs_addrs
        assert stand.get(f"/rs/orgs/{oid}/brhs/{branch_id}/{path}", only_branches).status == 403
    for path in ("brhs/999999999", f"brhs/{branch_id}/vhls", f"brhs/{branch_id}/ctts/1/2", "nothing", "brhs/x/ctts"):
        missing = stand.get(f"/rs/orgs/{oid}/{path}", only_branches)
        assert (missing.status, missing.json()["code"]) == (404, "ESIA-005001"), path
    # An id of the organisation's own contact is not an element of a branch's contacts.
    everything = _client_token(stand, oid, "org_ctts", "org_brhs", "org_brhs_ctts")
    head_contact = stand.get(f"/rs/orgs/{oid}/ctts", everything, embed="(elements)").json()["elements"][0]["id"]
    assert stand.get(f"/rs/orgs/{oid}/brhs/{branch_id}/ctts/{head_contact}", everything).status == 404


def test_an_employee_reads_the_organisations_registration_data(stand, seeded_org):
    record, org = seeded_org
    clerk = stand.seed()
    stand.control.add_employee(org["oid"], clerk)
    token = stand.login(clerk, "openid usr_org").access_token
    ctts = stand.get(f"/rs/orgs/{org['oid']}/ctts", token, embed="(elements)").json()
    assert ctts["size"] == len(record["contacts"])
    assert stand.get(f"/rs/orgs/{org['oid']}/brhs", token).json()["size"] == 2
    assert stand.get(f"/rs/orgs/{org['oid']}", token).json()["oktmo"] == record["oktmo"]
    assert stand.get(f"/rs/orgs/{org['oid']}/emps", token).status == 403  # not its administrator


def test_organisation_contacts_addresses_and_branches_are_validated(stand):
    with pytest.raises(ControlError) as refused:
        stand.control.create_organisation(
            **ORG,
            leg="123",
            oktmo="4500000",
            contacts=[{"type": "EML", "value": "a@b.ru"}, {"type": "OEM", "value": "not an address"}],
            addresses=[{"type": "PRG", "addressStr": "x"}, {"type": "OLG"}],
            branches=[{"name": "Филиал", "kpp": ORG["kpp"]}, {"kpp": "7707AB001"}, {"name": "Ещё", "kpp": "7707AB001"}],
        )
    assert refused.value.status == 422
    pointers = {e["pointer"] for e in __import__("json").loads(refused.value.body)["errors"]}
    assert pointers == {
        "/leg", "/oktmo", "/contacts/0/type", "/contacts/1/value", "/addresses/0/type",
        "/addresses/1/addressStr", "/branches/0/kpp", "/branches/1/name", "/branches/2/kpp",
    }
    with pytest.raises(ControlError) as sole:
        stand.control.create_organisation(fullName="ИП Петров Пётр Петрович", type="BUSINESS",
                                          ogrn="304500116000157", inn="500500123491",
                                          branches=[{"name": "Филиал", "kpp": "500501001"}])
    assert {e["pointer"] for e in __import__("json").loads(sole.value.body)["errors"]} == {"/branches"}


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
#: Where a fuzzed value goes in an otherwise valid organisation: a top-level field, or a field of
#: its first contact, address or branch (or of the branch's own contact or address).
_PLACES = st.sampled_from([
    (), ("contacts", 0), ("addresses", 0), ("branches", 0), ("branches", 0, "contacts", 0),
    ("branches", 0, "addresses", 0),
])
_NAMES = st.sampled_from(["type", "value", "vrfStu", "addressStr", "zipCode", "name", "kpp", "leg", "oktmo",
                          "contacts", "addresses", "branches", "inn", "ogrn", "fullName"])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 50), place=_PLACES, name=_NAMES, value=_JSON)
def test_any_organisation_body_is_seeded_or_refused_by_pointer_never_a_server_error(stand, seed, place, name, value):
    from gosstand.scenarios.identities import russian_faker

    body = russian_faker(seed=seed).organisation_record(branches=1)
    target = body
    for step in place:
        target = target[step]
    target[name] = value
    try:
        created = stand.control.create_organisation(**body)
    except ControlError as refused:
        assert refused.status == 422, refused.body
        errors = __import__("json").loads(refused.body)["errors"]
        assert errors and all(e["pointer"].startswith("/") and e["detail"] for e in errors)
    else:
        assert created["oid"] > 0


@pytest.mark.parametrize("oid", ["³", "²", "１２", "٣"])
def test_an_organisation_oid_of_digits_that_are_not_ascii_is_not_found(stand, seeded_org, oid):
    """``str.isdigit`` holds for superscripts and other scripts' digits that ``int`` refuses or
    reads: the container CI's conformance run met a 500 at ``/rs/orgs/³/ctts``."""
    _, org = seeded_org
    token = _client_token(stand, org["oid"], "org_ctts")
    for path in (f"/rs/orgs/{quote(oid)}", f"/rs/orgs/{quote(oid)}/ctts"):
        answer = stand.get(path, token)
        assert (answer.status, answer.json()["code"]) == (404, "ESIA-005001"), path


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(segments=st.lists(st.sampled_from(["ctts", "addrs", "brhs", "emps", "1", "0", "-1", "x", "", "99999999999999999",
                                          "１", "²"]) | st.text(max_size=6), max_size=5))
def test_any_path_under_an_organisation_is_an_esia_answer(stand, seeded_org, segments):
    _, org = seeded_org
    token = _client_token(stand, org["oid"], "org_ctts", "org_addrs", "org_brhs", "org_brhs_ctts")
    path = "/".join([f"/rs/orgs/{org['oid']}", *(quote(segment, safe="") for segment in segments)])
    answer = stand.get(path, token)
    assert answer.status in (200, 403, 404), (path, answer.status)
    if answer.status != 200:
        assert answer.json()["code"] in ("ESIA-005001", "ESIA-005029")
