"""Fixtures of the API tests: users of each role with tokens, and a client that sends only bearer headers."""
from __future__ import annotations

import pytest

from app.extensions import db, limiter
from app.services import api_tokens
from models import OrganizationRole
from tests.factories import OrganizationFactory, UserFactory, resource_base


class Api:
    """The Flask test client speaking JSON with an Authorization header and nothing else."""

    def __init__(self, client, token: str | None) -> None:
        self.client = client
        self.token = token

    def _headers(self, headers: dict | None) -> dict:
        out = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        out.update(headers or {})
        return out

    def get(self, path: str, **kwargs):
        """GET /api/v1{path}."""
        return self.client.get("/api/v1" + path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, json=None, **kwargs):
        """POST JSON to /api/v1{path}."""
        return self.client.post("/api/v1" + path, json=json if json is not None else {},
                                headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def put(self, path: str, json=None, **kwargs):
        """PUT JSON to /api/v1{path}."""
        return self.client.put("/api/v1" + path, json=json, headers=self._headers(kwargs.pop("headers", None)),
                               **kwargs)


def token_for(user) -> str:
    """A fresh API token of the user."""
    return api_tokens.create(db.session, user, "tests").secret


@pytest.fixture(autouse=True)
def _fresh_rate_limits(app):
    """Every test starts with empty rate-limit counters."""
    limiter.reset()
    yield


@pytest.fixture
def make_api(client):
    """Build an Api for a user (or None for no token)."""
    return lambda user: Api(client, token_for(user) if user is not None else None)


def make_user(role: str, org_role: str | None = None, verified: bool = True, base: str | None = None, **kwargs):
    """A user of the role in a new organisation."""
    org_kwargs = {"verified": verified, "roles": [OrganizationRole(role=org_role or role)]}
    if base:
        org_kwargs["base_id"] = resource_base(base).id
    return UserFactory(role=role, organization=OrganizationFactory(**org_kwargs), **kwargs)


@pytest.fixture
def users(reference):
    """One user per role: producer, recycler, an unverified producer, a base officer of Daqing, a regulator."""
    return {
        "producer": make_user("producer", email="p@example.com"),
        "recycler": make_user("recycler", email="r@example.com"),
        "other_recycler": make_user("recycler", email="r2@example.com"),
        "unverified": make_user("producer", verified=False, email="u@example.com"),
        "officer": make_user("base_officer", "base_operator", base="daqing", email="o@example.com"),
        "jixi_officer": make_user("base_officer", "base_operator", base="jixi", email="j@example.com"),
        "regulator": make_user("regulator", email="reg@example.com"),
    }


@pytest.fixture
def apis(users, make_api):
    """An Api per user of `users`."""
    return {name: make_api(user) for name, user in users.items()}


DAQING_PLANT = {"name": "Daqing power plant", "kind": "producer", "lon": 125.10, "lat": 46.59}
DAQING_CEMENT = {"name": "Daqing cement", "kind": "recycler", "lon": 125.02, "lat": 46.62, "max_haul_km": 300,
                 "capacities": [{"category": "fly_ash", "tonnes_per_month": "5000"}]}


def lot_body(facility_id: int, **changes) -> dict:
    """A valid lot body at the facility."""
    return {"facility_id": facility_id, "category": "fly_ash", "tonnes": "1000", "reserve_yuan_per_t": "10.00",
            "available_from": "2026-11-01", **changes}


@pytest.fixture
def market(apis):
    """Through the API: a Daqing producer plant with an open lot, and a recycler's cement plant nearby."""
    plant = apis["producer"].post("/facilities", DAQING_PLANT).get_json()
    cement = apis["recycler"].post("/facilities", DAQING_CEMENT).get_json()
    lot = apis["producer"].post("/lots", lot_body(plant["id"])).get_json()
    return {"plant": plant, "cement": cement, "lot": lot}


@pytest.fixture
def cleared(apis, market):
    """The market after a bid and a clearing: one proposed allocation of 600 t."""
    bid = apis["recycler"].post(f"/lots/{market['lot']['id']}/bids", {
        "facility_id": market["cement"]["id"], "price_yuan_per_t": "80.00", "tonnes": "600"}).get_json()
    run = apis["regulator"].post("/match-runs", {"category": "fly_ash"}).get_json()
    allocation = apis["recycler"].get("/allocations").get_json()["items"][0]
    return {**market, "bid": bid, "run": run, "allocation": allocation}


@pytest.fixture
def awarded(apis, cleared):
    """Both parties accepted: an award of 600 t."""
    apis["producer"].post(f"/allocations/{cleared['allocation']['id']}/accept")
    award_id = apis["recycler"].post(f"/allocations/{cleared['allocation']['id']}/accept").get_json()["award_id"]
    return {**cleared, "award_id": award_id}
