"""CLI commands: create-admin, seed-demo, stats."""
import json

import sqlalchemy as sa

from models import User


def test_create_admin_makes_an_admin_user(runner, db):
    result = runner.invoke(args=["create-admin", "--email", "Boss@Example.com", "--name", "Boss"],
                           input="s3cret-pass\ns3cret-pass\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "boss@example.com"))
    assert user.role == "admin" and user.organization.verified


def test_create_admin_refuses_a_duplicate(runner, db):
    runner.invoke(args=["create-admin", "--email", "a@example.com"], input="pw-123456\npw-123456\n")
    result = runner.invoke(args=["create-admin", "--email", "a@example.com"], input="pw-123456\npw-123456\n")
    assert result.exit_code != 0 and "already exists" in result.output


def test_stats_json_counts_the_catalogue_and_bases(runner, reference):
    result = runner.invoke(args=["stats", "--json"])
    counts = json.loads(result.output)
    assert set(counts) == {"organizations", "facilities", "categories", "lots", "bids", "demand_profiles", "bases"}
    assert counts["categories"] >= 21 and counts["bases"] == 4 and counts["lots"] == 0
