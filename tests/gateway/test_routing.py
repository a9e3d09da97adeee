"""The routing catalogue: lead and assisting departments, street offices, overrides, fallback."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from connectors import Ingestor, examples
from gateway.routing import Router, RoutingCatalogueError, load_catalogue
from gateway.settings import Settings
from schemas.models import DeadLetterSource, Report, Transport


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(load_catalogue())


def test_longest_category_prefix_wins(router: Router) -> None:
    """A sub code with its own entry overrides its family (0603 drains → water authority)."""
    assert router.route("0601", "HOTLINE_12345", {}, {}).lead == "shizheng"
    drains = router.route("0603", "HOTLINE_12345", {}, {})
    assert drains.lead == "shuiwu"
    assert drains.assisting == ("shizheng",)


def test_street_office_from_admin_or_grid_code(router: Router) -> None:
    """The street office of the physical grid assists, found by code prefix."""
    by_admin = router.route("0601", "HOTLINE_12345", {"admin_code": "310115005001"}, {})
    by_grid = router.route("0601", "GRID_REPORT", {"grid_code": "31011500500201"}, {})
    assert "jd-310115005" in by_admin.assisting
    assert "jd-310115005" in by_grid.assisting
    assert "jd-310115005" not in router.route("0601", "GRID_REPORT", {"grid_code": "310120001"}, {}).assisting


def _property_report(company: str) -> Report:
    """A 962121 export row naming ``company``, mapped by the connector as the live pipeline maps it."""
    raw = examples.PROPERTY_962121.replace("上海锦绣物业管理有限公司".encode("gbk"), company.encode("gbk"))
    source = DeadLetterSource(transport=Transport.FILE, file="export.csv", line=2)
    report = Ingestor(Settings()).ingest("962121", raw, source, datetime(2026, 11, 1, tzinfo=UTC))
    assert isinstance(report, Report), report
    return report


def test_property_line_goes_to_housing_bureau_and_company(router: Router) -> None:
    """962121 tickets go to the housing bureau plus the property company the export names."""
    for company, assisting in [("上海陆家嘴物业管理有限公司", ("wy-ljz",)), ("不存在的物业", ())]:
        report = _property_report(company).model_dump()
        route = router.route(
            report["category"]["code"], report["channel"], report["location"], report["attributes"]
        )
        assert route.lead == "fangguan"
        assert route.assisting == assisting


@pytest.mark.parametrize("code", ["9900", "99", "7777", ""])
def test_unroutable_goes_to_dispatch_centre(router: Router, code: str) -> None:
    """Unclassified or unknown categories go to the dispatch centre, never nowhere."""
    route = router.route(code, "HOTLINE_12345", {}, {})
    assert route.lead == "dispatch"
    assert route.departments == ("dispatch",)


def test_time_limits(router: Router) -> None:
    """Emergencies get hours, ordinary matters the default five days."""
    assert router.route("0401", "GRID_REPORT", {}, {}).time_limit_hours == 4
    assert router.route("1001", "HOTLINE_12345", {}, {}).time_limit_hours == 120


def test_every_routed_department_is_known(router: Router) -> None:
    """All department codes are topic-safe and listed, so their topics can be created at start."""
    codes = router.catalogue.all_departments()
    assert {"dispatch", "shizheng", "fangguan", "wy-ljz", "jd-310115005"} <= codes
    for code in codes:
        assert code == code.lower()
        assert " " not in code


def test_bad_catalogue_is_rejected_with_the_field(tmp_path: Path) -> None:
    """A catalogue with a bad department code fails at load, naming the place."""
    data = yaml.safe_load((Path(__file__).parents[2] / "gateway/data/routing.yaml").read_text("utf-8"))
    data["categories"]["06"]["lead"] = "Bad Code!"
    path = tmp_path / "routing.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with pytest.raises(RoutingCatalogueError, match=r"routing\.yaml: categories\.06\.lead: String should"):
        load_catalogue(path)
    path.write_text("categories: [", "utf-8")
    with pytest.raises(RoutingCatalogueError, match="not valid YAML"):
        load_catalogue(path)
    with pytest.raises(RoutingCatalogueError, match="cannot read"):
        load_catalogue(tmp_path / "absent.yaml")
