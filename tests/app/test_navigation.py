"""The navigation offers each role exactly the pages it may open: the menu asks the pages' own policy guards."""
from __future__ import annotations

import re

import pytest

from app import permissions
from models import OrganizationRole
from tests.conftest import sign_in
from tests.factories import OrganizationFactory, UserFactory, resource_base

ROLES = ("producer", "recycler", "carrier", "base_officer", "regulator", "admin")
ACCOUNTS = ("anonymous", *ROLES, *(f"unverified_{r}" for r in ROLES if r != "admin"))
# Links of the bar that every visitor, or every signed-in one, has whatever their role.
ALWAYS = {"/", "/lots", "/categories", "/login", "/register", "/notifications", "/account/tokens"}


def _menu_links(html: str) -> set[str]:
    nav = html[html.index("<nav"):html.index("</nav>")]
    return {href for href in re.findall(r'href="(/[^"?#]*)', nav) if not href.startswith("/static/")}


@pytest.fixture
def accounts(db, reference):
    def user(name):
        role = name.removeprefix("unverified_")
        kind = {"base_officer": "base_operator", "admin": "operator"}.get(role, role)
        org = OrganizationFactory(verified=not name.startswith("unverified_"), roles=[OrganizationRole(role=kind)])
        if role == "base_officer":
            org.base = resource_base("daqing")
        return UserFactory(email=f"{name}@example.com", role=role, organization=org)

    made = {name: user(name) for name in ACCOUNTS[1:]}
    db.session.commit()
    return made


def _as(client, accounts, name):
    client.get("/")  # a fresh session cookie
    with client.session_transaction() as session:
        session.clear()
    if name != "anonymous":
        sign_in(client, accounts[name])


def _opens(client, path: str) -> bool:
    response = client.get(path)
    if response.status_code in (401, 403):
        return False
    if response.status_code in (301, 302, 303):
        return "/login" not in response.headers["Location"]
    assert response.status_code == 200, (path, response.status_code)
    return True


def test_every_menu_link_opens_and_every_link_left_out_is_refused(client, accounts):
    menus = {}
    for name in ACCOUNTS:
        _as(client, accounts, name)
        menus[name] = _menu_links(client.get("/").get_data(as_text=True))
    offered_somewhere = set().union(*menus.values()) - ALWAYS
    assert len(offered_somewhere) >= 10  # the role menus, not only the bar's fixed links
    for name in ACCOUNTS:
        _as(client, accounts, name)
        for path in sorted(offered_somewhere | (menus[name] - {"/register", "/login"})):
            assert _opens(client, path) == (path in menus[name]), (name, path)


def test_each_role_sees_its_own_work(client, accounts):
    expected = {
        "producer": {"/lots/mine", "/lots/new", "/bases/reports", "/awards"},
        "recycler": {"/bids", "/searches", "/awards"},
        "carrier": {"/shipments/manifests", "/dispatch/"},
        "base_officer": {"/bases", "/clearing"},
        "regulator": {"/bases", "/clearing", "/bases/reports"},
        "admin": {"/admin/organizations", "/bases", "/lots/new", "/bids"},
    }
    for name, links in expected.items():
        _as(client, accounts, name)
        menu = _menu_links(client.get("/").get_data(as_text=True))
        assert links <= menu, (name, links - menu)
    _as(client, accounts, "unverified_producer")
    page = client.get("/").get_data(as_text=True)
    assert _menu_links(page) <= ALWAYS  # browses, acts on nothing: no menu of actions it would be refused
    assert "not verified yet" in page or "尚未" in page


def test_may_open_reads_the_guard_of_the_page(app, client, accounts):
    with app.test_request_context("/"):
        assert permissions.may_open("lots.index") and permissions.may_open("public.home")  # unguarded pages
        assert not permissions.may_open("lots.create")  # nobody signed in
        assert not permissions.may_open("no.such_endpoint")
