"""The waste catalogue and the bases every deployment starts with."""
from decimal import Decimal

import sqlalchemy as sa

from app.services.reference import load_reference
from models import BaseTarget, ResourceBase, WasteCategory

REQUIRED = {
    "steel_slag", "bf_slag", "fly_ash", "boiler_slag", "coal_gangue", "fgd_gypsum", "byproduct_gypsum", "tailings",
    "smelting_slag", "carbide_slag", "coking_residue", "pv_modules", "wind_blades", "spent_batteries", "waste_glass",
    "scrap_steel", "scrap_nonferrous", "waste_plastics", "waste_tyres", "waste_paper", "crop_straw",
    "iron_zinc_dust", "silicon_calcium_slag", "waste_textiles", "end_of_life_vehicles", "sludge", "coal_slime",
    "gasification_slag", "drill_cuttings", "other_industrial", "red_mud", "incineration_fly_ash",
}


def _categories(db):
    return {c.code: c for c in db.session.scalars(sa.select(WasteCategory))}


def test_catalogue_has_every_required_category(reference):
    assert REQUIRED <= set(_categories(reference))


def test_environmental_tax_follows_the_law(reference):
    categories = _categories(reference)
    assert categories["coal_gangue"].env_tax_yuan_per_t == Decimal("5.00")
    assert categories["tailings"].env_tax_yuan_per_t == Decimal("15.00")
    assert categories["fly_ash"].env_tax_yuan_per_t == Decimal("25.00")
    assert categories["coking_residue"].env_tax_yuan_per_t == Decimal("1000.00")
    # Lithium-ion traction batteries are not on the national hazardous-waste list (only lead-acid batteries are).
    assert not categories["spent_batteries"].hazardous and categories["spent_batteries"].hw_code is None
    assert categories["coking_residue"].hazardous and categories["coking_residue"].hw_code.startswith("HW11")
    # The Art. 12 exemption figure reaches only the annex's named, non-hazardous lines.
    assert categories["coal_gangue"].exemption_rate == Decimal("5.00")
    assert categories["coking_residue"].exemption_rate is None
    assert categories["scrap_steel"].exemption_rate is None and categories["fgd_gypsum"].exemption_rate is None


def test_every_category_has_names_sources_and_a_freight_class(reference):
    for category in _categories(reference).values():
        assert category.name_zh and category.name_en
        assert category.env_tax_source and category.co2_source
        assert category.freight_class in {"bulk", "general", "hazardous", "oversize"}


def test_co2_factors_not_from_a_source_are_marked_as_estimates(reference):
    categories = _categories(reference)
    assert categories["fly_ash"].co2_is_estimate is False
    assert categories["steel_slag"].co2_is_estimate is True
    assert "estimate" in categories["steel_slag"].co2_source


def test_loading_twice_changes_nothing(reference):
    before = reference.session.scalar(sa.select(sa.func.count(WasteCategory.id)))
    load_reference(reference.session)
    assert reference.session.scalar(sa.select(sa.func.count(WasteCategory.id))) == before
    assert reference.session.scalar(sa.select(sa.func.count(ResourceBase.id))) == 4


def test_the_plan_targets_are_the_provinces_and_bases_inherit_them(reference):
    from app.services import utilisation

    daqing = reference.session.scalar(sa.select(ResourceBase).where(ResourceBase.code == "daqing"))
    assert reference.session.scalar(sa.select(BaseTarget).where(BaseTarget.base_id == daqing.id)) is None
    scope = utilisation.Scope("base", base=daqing)
    assert utilisation.targets(reference.session, scope)[2025] == Decimal("0.6000")
    assert utilisation.targets(reference.session, scope, "renewable") == {2025: Decimal("0.6000")}
    province = {(t.family, t.year): t for t in reference.session.scalars(sa.select(BaseTarget))}
    assert "碳达峰实施方案" in province[("renewable", 2025)].source


def test_a_base_copy_of_the_provincial_target_is_labelled_an_assumption(reference):
    from app.services.reference import BASE_COPY_LABEL, PLAN_SOURCE

    daqing = reference.session.scalar(sa.select(ResourceBase).where(ResourceBase.code == "daqing"))
    reference.session.add(BaseTarget(base_id=daqing.id, family="bulk_industrial", year=2025,
                                     target_rate=Decimal("0.6"), source=PLAN_SOURCE))
    load_reference(reference.session)
    copy = reference.session.scalar(sa.select(BaseTarget).where(BaseTarget.base_id == daqing.id))
    assert copy.source == BASE_COPY_LABEL
