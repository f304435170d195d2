"""A carrier reads the manifests it was given through the API."""
from tests.api.conftest import make_user


def test_a_carrier_lists_the_manifests_it_was_given(apis, awarded, make_api):
    carrier = make_user("carrier", email="haul@example.com")
    shipment = apis["producer"].post(f"/awards/{awarded['award_id']}/shipments", {
        "tonnes": "30", "vehicle_plate": "黑A12345", "carrier_organization_id": carrier.organization_id}).get_json()
    response = make_api(carrier).get("/manifests")
    assert response.status_code == 200
    assert [item["manifest_no"] for item in response.get_json()["items"]] == [shipment["manifest_no"]]


def test_a_producer_may_not_list_manifests(apis):
    response = apis["producer"].get("/manifests")
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
