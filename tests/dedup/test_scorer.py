"""The score: monotone in each feature, missing fields neutral, explanation adds up."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup import DedupModel, ModelFileError, load_model
from dedup.compare import problem_unsupported
from dedup.features import LEVELS, level_index

MODEL = load_model()
HOUR_MS = 3_600_000


def metres_east(metres: float) -> float:
    """Longitude offset of ``metres`` east near Shanghai (31.23° N)."""
    return metres / (111_195.0 * math.cos(math.radians(31.23)))


FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def score_against_one(make_index, make_obs, primary, query):
    index = make_index()
    index.open_ticket("T1", primary)
    return index.decide(query)


@FAST
@given(near=st.floats(0, 3000), far=st.floats(0, 3000))
def test_monotone_in_distance(make_index, make_obs, near, far):
    """A nearer report never scores lower than a farther one, all else equal."""
    near, far = min(near, far), max(near, far)
    primary = make_obs(report_id="P")
    a = score_against_one(make_index, make_obs, primary, make_obs(lon=primary.lon + metres_east(near)))
    b = score_against_one(make_index, make_obs, primary, make_obs(lon=primary.lon + metres_east(far)))
    assert a.score >= b.score


@FAST
@given(early=st.integers(0, 400), late=st.integers(0, 400))
def test_monotone_in_time_gap(make_index, make_obs, early, late):
    """A sooner repeat never scores lower than a later one (within the window)."""
    early, late = min(early, late), max(early, late)
    primary = make_obs(report_id="P")
    a = score_against_one(make_index, make_obs, primary, make_obs(event_time_ms=early * HOUR_MS // 4))
    b = score_against_one(make_index, make_obs, primary, make_obs(event_time_ms=late * HOUR_MS // 4))
    assert a.score >= b.score


@pytest.mark.parametrize(
    ("better", "worse"),
    [
        ({"description": "张杨路500号路灯不亮"}, {"description": "张杨路500号井盖破损"}),
        ({"address": "浦东新区张杨路500号"}, {"address": "浦东新区张杨路502号"}),
        ({"address": "浦东新区张杨路502号"}, {"address": "浦东新区张杨路900号"}),
        ({"address": "浦东新区张杨路900号"}, {"address": "浦东新区浦东南路900号"}),
        ({"category_code": "0601"}, {"category_code": "0602"}),
        ({"contact_hash": "same"}, {"contact_hash": "other"}),
    ],
)
def test_monotone_in_each_feature(make_index, make_obs, better, worse):
    """Agreeing more on one feature (text, address, category, caller) never lowers the score."""
    primary = make_obs(report_id="P", contact_hash="same")
    a = score_against_one(make_index, make_obs, primary, make_obs(**better))
    b = score_against_one(make_index, make_obs, primary, make_obs(**worse))
    assert a.score >= b.score


def test_model_levels_are_ordered():
    """In the shipped model, each ordered feature's weights never rise as agreement falls."""
    for feature in ("distance", "time", "text", "tokens"):
        weights = [MODEL.weight(feature, level) for level in LEVELS[feature][1:]]
        assert weights == sorted(weights, reverse=True), feature


@pytest.mark.parametrize(
    ("missing", "feature"),
    [
        ({"lat": None, "lon": None}, "distance"),
        ({"contact_hash": None}, "caller"),
        ({"title": "", "description": ""}, "text"),
        ({"address": "", "district_code": None}, "address"),
    ],
)
def test_missing_field_contributes_zero(make_index, make_obs, missing, feature):
    """Leaving a field out removes exactly that feature's contribution, nothing else."""
    primary = make_obs(report_id="P", contact_hash="c")
    # The place is given only in the address field, so leaving it out leaves no trace of it.
    base = {"contact_hash": "c", "description": "门口路灯不亮"}
    full = score_against_one(make_index, make_obs, primary, make_obs(**base))
    part = score_against_one(make_index, make_obs, primary, make_obs(**{**base, **missing}))
    by_feature = {c.feature: c for c in part.contributions}
    assert by_feature[feature].level == "missing"
    assert by_feature[feature].weight == 0.0
    others = sum(c.weight for c in full.contributions if c.feature != feature and c.feature in by_feature)
    changed = {"text": {"tokens", "object", "symptom"}, "address": set()}.get(feature, set())
    assert math.isclose(
        sum(c.weight for c in part.contributions if c.feature not in changed),
        others - sum(c.weight for c in full.contributions if c.feature in changed),
    )


def test_score_is_the_sum_of_contributions_and_explained(make_index, make_obs):
    """The score equals the sum of contributions, and the explanation names total, threshold and band."""
    d = score_against_one(make_index, make_obs, make_obs(report_id="P"), make_obs())
    assert math.isclose(d.score, sum(c.weight for c in d.contributions))
    assert d.band == "MERGE"
    assert d.explanation.endswith(f"→ {d.score:.1f} ≥ {d.merge_threshold:.1f} MERGE")
    assert "地址" in d.explanation
    assert "距离 0 m" in d.explanation


def test_model_file_rejects_unknown_levels_and_nonzero_missing():
    """Typos in a model file are errors at load, not silently ignored weights."""
    good = MODEL.to_dict()
    bad = {**good, "features": {**good["features"], "distance": {"d25": 1.0, "d7": 2.0}}}
    with pytest.raises(ModelFileError, match="d7"):
        DedupModel.from_dict(bad)
    bad = {**good, "features": {**good["features"], "caller": {"missing": 1.0}}}
    with pytest.raises(ModelFileError, match="missing"):
        DedupModel.from_dict(bad)


def test_model_round_trips_through_its_file(tmp_path):
    """dump then load gives the same weights, thresholds and version."""
    path = tmp_path / "m.yaml"
    MODEL.dump(path)
    again = load_model(path)
    assert again.to_dict() == MODEL.to_dict()


def _level(decision, feature):
    return next(c.level for c in decision.contributions if c.feature == feature)


def test_same_caller_about_another_problem_is_its_own_level(make_index, make_obs):
    """The same caller counts as "same" only when the problem agrees (object and category)."""
    index = make_index()
    index.open_ticket("T1", make_obs(report_id="A", contact_hash="c1"))
    same = index.decide(make_obs(contact_hash="c1"))
    other = index.decide(
        make_obs(contact_hash="c1", category_code="0602", title="井盖破损", description="张杨路500号井盖破损")
    )
    assert (_level(same, "caller"), _level(other, "caller")) == ("same", "same_other")
    assert _level(index.decide(make_obs(contact_hash="c2")), "caller") == "differ"


def test_a_lane_without_the_building_is_the_same_compound_not_the_same_house(make_index, make_obs):
    """Same 弄 with the building named on one side only: same_compound; a street door: same_house."""
    index = make_index()
    flat = dict(category_code="0802", title="漏水", description="楼上漏水", lat=None, lon=None)
    index.open_ticket("T1", make_obs(report_id="A", address="凉城路700弄5号", **flat))
    lane_only = index.decide(make_obs(address="凉城路700弄", **flat))
    building = index.decide(make_obs(address="凉城路700弄5号", **flat))
    assert _level(lane_only, "address") == "same_compound"
    assert _level(building, "address") == "same_building"
    street = make_index()
    street.open_ticket("T1", make_obs(report_id="A", lat=None, lon=None))
    assert _level(street.decide(make_obs(lat=None, lon=None)), "address") == "same_house"


AGREEING = [
    ("category", "same_code"),
    ("category", "same_family"),
    ("object", "same"),
    ("object", "overlap"),
    ("symptom", "same"),
    ("symptom", "overlap"),
    *(("text", level) for level in LEVELS["text"][1:-1]),
    *(("tokens", level) for level in LEVELS["tokens"][1:-1]),
]


@pytest.mark.parametrize(("feature", "level"), AGREEING)
def test_one_agreeing_problem_feature_supports_a_merge(feature, level):
    """``problem_unsupported`` is lifted by any single agreeing problem feature, and only by one.

    Every other problem feature is at its least telling level (unclassified, missing, low,
    differ), and place, caller and time are at their best: those never count as agreement.
    """
    none_agree = {
        "category": "unclassified",
        "object": "differ",
        "symptom": "missing",
        "text": "low",
        "tokens": "missing",
        "address": "same_room",
        "distance": "d25",
        "caller": "same",
        "time": "h1",
        "family": "f01",
    }
    as_levels = lambda named: {f: np.array([level_index(f, v)], dtype=np.int8) for f, v in named.items()}  # noqa: E731
    assert problem_unsupported(as_levels(none_agree))[0]
    assert not problem_unsupported(as_levels({**none_agree, feature: level}))[0]
