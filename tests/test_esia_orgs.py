"""Person data beyond the basics (``/vhls``, ``/kids``, ``/roles``, ``/orgs``) and
organisations (``/rs/orgs/{org_oid}``) seeded with employees through the control API."""

from __future__ import annotations

import pytest
from esia_stand import ESIA, make_stand
from gosstand.scenarios.control import ControlError

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
        )
    pointers = {e["pointer"] for e in __import__("json").loads(refused.value.body)["errors"]}
    assert {"/vehicles/0/numberPlate", "/kids/0/lastName", "/kids/0/birthDate", "/kids/0/gender"} <= pointers


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
