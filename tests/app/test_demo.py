"""The Heilongjiang demo: sizes the issue asks for, real enterprises, determinism."""
import hashlib
import json

import sqlalchemy as sa

import models
from app.services import demo, generation_reports, stats
from models import Facility, GenerationReport, Lot, Organization, ResourceBase, User
from tests.conftest import _truncate_all


def _snapshot(session) -> str:
    """A digest of every row that matters, leaving out password hashes and timestamps."""
    skip = {"password_hash", "created_at", "updated_at", "occurred_at", "hash", "prev_hash", "verified_at",
            "last_login_at", "attempted_at"}
    digest = hashlib.sha256()
    for table in models.Base.metadata.sorted_tables:
        columns = [c for c in table.columns if c.name not in skip]
        for row in session.execute(sa.select(*columns).order_by(*table.primary_key.columns)):
            digest.update(json.dumps(list(row), default=str, ensure_ascii=False).encode())
    return digest.hexdigest()


def test_demo_has_the_promised_sizes(db):
    demo.seed_demo(db.session)
    counts = stats.counts(db.session)
    assert counts["facilities"] >= 150
    assert counts["categories"] >= 20
    assert counts["bases"] == 4
    assert counts["bids"] + counts["demand_profiles"] >= 200
    open_lots = db.session.scalar(sa.select(sa.func.count(Lot.id)).where(Lot.status == "open"))
    assert open_lots >= 400


def test_demo_covers_every_prefecture_and_names_the_plans_enterprises(db):
    demo.seed_demo(db.session)
    prefectures = set(db.session.scalars(sa.select(Facility.prefecture_code).distinct()))
    assert len(prefectures - {None}) == 13
    names = set(db.session.scalars(sa.select(Organization.name)))
    named = ("建龙西林钢铁有限公司", "大庆石化公司", "七台河宝泰隆新材料股份有限公司",
             "中建材佳星玻璃（黑龙江）有限公司")
    for expected in named:
        assert expected in names
    xilin = db.session.scalar(sa.select(Facility).join(Organization).where(Organization.name == "建龙西林钢铁有限公司"))
    assert xilin.prefecture_code == "230700"  # Yichun


def test_demo_has_24_months_of_reports_and_four_bases(db):
    demo.seed_demo(db.session)
    months = db.session.scalar(sa.select(sa.func.count(sa.distinct(GenerationReport.period))))
    assert months == 24
    codes = set(db.session.scalars(sa.select(ResourceBase.code)))
    assert codes == {"daqing", "jixi", "qiqihar", "qitaihe"}
    daqing_facilities = db.session.scalar(
        sa.select(sa.func.count(Facility.id)).join(ResourceBase).where(ResourceBase.code == "daqing"))
    assert daqing_facilities > 0


def test_demo_accounts_exist_for_every_role(db):
    accounts = demo.seed_demo(db.session)
    roles = {a.role for a in accounts}
    assert {"admin", "producer", "recycler", "carrier", "base_officer", "regulator"} <= roles
    unverified = db.session.scalar(sa.select(User).where(User.email == "unverified@gufei.demo"))
    assert unverified.organization.verified is False


def test_every_demo_organisation_is_marked_as_demo(db):
    demo.seed_demo(db.session)
    not_demo = db.session.scalars(sa.select(Organization.name).where(Organization.is_demo.is_(False))).all()
    assert not_demo == ["固废交易平台运营方"]


def test_demo_is_deterministic(app, db):
    demo.seed_demo(db.session)
    first = _snapshot(db.session)
    db.session.remove()
    _truncate_all(db.engine)
    demo.seed_demo(db.session)
    assert _snapshot(db.session) == first


def test_seed_command_refuses_a_non_empty_database_unless_asked_to_skip(runner, db):
    demo.seed_demo(db.session)
    assert runner.invoke(args=["seed-demo"]).exit_code != 0
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0 and "already has data" in result.output


def test_every_demo_report_balances_and_the_seed_mismatches_are_fixed(db):
    demo.seed_demo(db.session)
    g = GenerationReport
    unbalanced = [r.id for r in db.session.scalars(sa.select(g)) if generation_reports.check_figures(
        generation_reports.ReportInput(r.facility_id, r.category_id, r.period, **{
            name: getattr(r, name) for name in generation_reports.TONNE_FIELDS}))]
    assert unbalanced == []
    produced = {(org, code) for org, code in db.session.execute(
        sa.select(Organization.name, models.WasteCategory.code)
        .join(Facility, Facility.organization_id == Organization.id)
        .join(g, g.facility_id == Facility.id).join(models.WasteCategory, models.WasteCategory.id == g.category_id)
        .distinct())}
    assert not any(code == "fly_ash" and "生物质" in org for org, code in produced)
    assert ("黑河化工（演示）", "carbide_slag") in produced
    red_mud_users = db.session.scalar(sa.select(sa.func.count(models.FacilityCapacity.id))
                                      .join(models.WasteCategory).where(models.WasteCategory.code == "red_mud"))
    assert red_mud_users == 0


def test_the_demo_producer_account_has_a_facility_in_the_daqing_base(db):
    demo.seed_demo(db.session)
    producer = db.session.scalar(sa.select(User).where(User.email == "producer@gufei.demo"))
    daqing = db.session.scalar(sa.select(ResourceBase).where(ResourceBase.code == "daqing"))
    bases = set(db.session.scalars(sa.select(Facility.base_id).where(
        Facility.organization_id == producer.organization_id)))
    assert daqing.id in bases


def test_demo_figures_carry_a_demo_mark_on_the_dashboard_and_exports(client, auth, db):
    demo.seed_demo(db.session)
    auth.login("regulator@gufei.demo", demo.DEMO_PASSWORD)
    page = client.get("/bases/qiqihar?year=2026", headers={"Accept-Language": "en"}).get_data(as_text=True)
    producers = page[page.index("Top producers"):page.index("Top recyclers")]
    assert producers.count("demo-mark") == producers.count("<tr>") - 1  # every row but the header
    assert "invented demo data" in page
    csv_text = client.get("/bases/qiqihar/export.csv?year=2026").data.decode("utf-8-sig")
    assert "演示数据" in csv_text.splitlines()[-1]
    chart = client.get("/bases/qiqihar/data.json?year=2026").get_json()
    assert chart["demo"] and all("演示数据" in label for label in chart["labels"].values())
