"""What is left of a report after normalisation is what the caller said about the problem."""

import pytest

from dedup import DedupConfig, LexiconError, Normalizer, Observation


@pytest.fixture(scope="module")
def normalizer():
    return Normalizer()


def norm(normalizer, description, address="浦东新区张杨路500号", title=""):
    return normalizer.normalize(
        Observation(report_id="x", event_time_ms=0, title=title, description=description, address=address)
    )


def test_stock_phrases_and_address_are_stripped(normalizer):
    """Stock phrases, the address and punctuation go; the problem stays."""
    n = norm(normalizer, "市民来电反映：浦东新区张杨路５００号门口路灯不亮，希望尽快处理。")
    assert n.text == "门口路灯不亮"


def test_synonyms_map_to_one_object_and_symptom(normalizer):
    """下水道 / 窨井 and 堵塞 / 反水 are the same object and symptom."""
    a = norm(normalizer, "下水道堵塞了")
    b = norm(normalizer, "窨井反水")
    assert a.objects == b.objects == ("下水道",)
    assert a.symptoms == b.symptoms == ("堵塞",)


def test_longest_synonym_wins(normalizer):
    """窨井盖 is a manhole cover, not a sewer."""
    assert norm(normalizer, "窨井盖被偷了").objects == ("井盖",)


def test_different_problems_at_one_address_differ(normalizer):
    """路灯 vs 井盖 with the same stock phrases: different objects after stripping."""
    a = norm(normalizer, "市民来电反映张杨路500号路灯不亮，请相关部门尽快处理")
    b = norm(normalizer, "市民来电反映张杨路500号井盖破损，请相关部门尽快处理")
    assert a.objects != b.objects
    assert a.text != b.text


def test_lexicon_is_extensible_by_configuration(tmp_path):
    """A city file adds a new object and a synonym without code changes."""
    extra = tmp_path / "extra.yaml"
    extra.write_text("objects:\n  充电桩: [充电站]\n  路灯: [高杆灯]\nphrases: [麻烦了]\n", encoding="utf-8")
    n = Normalizer(DedupConfig(lexicon_files=(extra,)))
    a = n.normalize(Observation(report_id="a", event_time_ms=0, description="充电站坏了，麻烦了"))
    b = n.normalize(Observation(report_id="b", event_time_ms=0, description="高杆灯不亮"))
    assert a.objects == ("充电桩",)
    assert "麻烦了" not in a.text
    assert b.objects == ("路灯",)


def test_bad_lexicon_file_is_named(tmp_path):
    """A malformed lexicon file is an error naming the file."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("objects:\n  路灯: 灯杆\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"bad\.yaml"):
        Normalizer(DedupConfig(lexicon_files=(bad,)))


def test_exclusive_symptoms_come_from_the_callers_words_not_the_title(normalizer):
    """12345 files a broken cover under the title 窨井盖缺失: only the description's 破损 counts."""
    broken = norm(normalizer, "张杨路500号井盖松动，车开过去哐哐响", title="窨井盖缺失")
    assert set(broken.symptoms) == {"缺失", "破损"}  # the scored feature still reads both
    assert broken.said_symptoms == ("破损",)
    missing = norm(normalizer, "张杨路500号窨井盖被偷了", title="窨井盖缺失")
    assert missing.said_symptoms == ("缺失",)
    assert norm(normalizer, "张杨路500号窨井盖", title="窨井盖缺失").said_symptoms == ()
    assert norm(normalizer, "张杨路500号路灯不亮").said_symptoms == ()  # no exclusive term at all


def test_a_broad_title_is_not_read(normalizer):
    """12345 files a door lock, a stair light and the management company alike as 物业服务.

    Read as words, that title gives each of them the object 物业; the description says
    which problem it is. A title naming one problem is read as before.
    """
    door = norm(normalizer, "锦绣苑4号楼单元门门禁坏了", title="物业服务")
    assert door.objects == ("门禁",)
    assert "物业" not in door.text
    assert norm(normalizer, "锦绣苑4号楼物业不作为", title="物业服务").objects == ("物业",)
    assert norm(normalizer, "锦绣苑4号楼", title="路灯不亮").objects == ("路灯",)


def test_a_building_number_before_a_position_word_leaves_the_word(normalizer):
    """6号楼下的门: the number is cut, 楼下 (downstairs) stays, so the door is still a 门禁."""
    door = norm(normalizer, "曹安公路4000弄6号楼下的门关不上", address="嘉定金鹤新城6号楼")
    assert door.objects == ("门禁",)
    assert "6" not in door.text
    assert door.building == "6"
    assert norm(normalizer, "7号楼上漏水", address="张杨路500弄").text == "楼上漏水"
    assert norm(normalizer, "7号楼漏水", address="张杨路500弄").text == "漏水"


def test_broad_titles_are_configurable_and_checked(tmp_path):
    """A city file adds its own catch-all titles; a title list of the wrong shape is refused by file."""
    extra = tmp_path / "extra.yaml"
    extra.write_text("broad_titles: [城市管理]\n", encoding="utf-8")
    n = Normalizer(DedupConfig(lexicon_files=(extra,)))
    assert n.lexicon.broad_titles == {"物业服务", "城市管理"}
    assert norm(n, "张杨路500号路灯不亮", title="城市管理").text == norm(n, "张杨路500号路灯不亮").text
    shape = tmp_path / "shape.yaml"
    shape.write_text("broad_titles: 城市管理\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"shape\.yaml: broad_titles"):
        Normalizer(DedupConfig(lexicon_files=(shape,)))


def test_exclusive_pairs_are_configurable_and_checked(tmp_path):
    """A city file adds a pair of canonical symptoms; a pair naming an unknown term is refused by file."""
    extra = tmp_path / "extra.yaml"
    extra.write_text("exclusive:\n  - [不亮, 缺失]\n", encoding="utf-8")
    lexicon = Normalizer(DedupConfig(lexicon_files=(extra,))).lexicon
    assert {frozenset(pair) for pair in lexicon.exclusive} == {
        frozenset({"缺失", "破损"}),
        frozenset({"不亮", "缺失"}),
    }
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("exclusive:\n  - [缺失, 闪烁]\n", encoding="utf-8")
    with pytest.raises(LexiconError, match="闪烁"):
        Normalizer(DedupConfig(lexicon_files=(unknown,)))
    shape = tmp_path / "shape.yaml"
    shape.write_text("exclusive:\n  - [缺失]\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"shape\.yaml: exclusive"):
        Normalizer(DedupConfig(lexicon_files=(shape,)))


def test_invalid_coordinates_are_missing(normalizer):
    """(0, 0), NaN and out-of-range positions count as no position."""
    for lat, lon in ((0.0, 0.0), (float("nan"), 121.5), (95.0, 121.5)):
        n = normalizer.normalize(Observation(report_id="x", event_time_ms=0, lat=lat, lon=lon))
        assert n.lat is None
        assert n.lon is None


def test_the_compound_s_other_name_comes_from_the_description(normalizer):
    """A lane address with the compound named in the text carries both names, and back."""
    lane = norm(normalizer, "市民来电称，凉城新村5号楼家里没有水。", address="虹口区凉城路700弄5号")
    assert (lane.road, lane.house, lane.compound, lane.building) == ("凉城路", "700弄", "凉城新村", "5")
    named = norm(normalizer, "来电反映普陀区真北路2500弄真光新村电梯坏了。", address="真光新村20号楼")
    assert (named.road, named.house, named.compound) == ("真北路", "2500弄", "真光新村")
    other_lane = norm(normalizer, "隔壁曹杨路500弄曹杨一村也停水。", address="凉城路700弄5号")
    assert other_lane.compound is None  # the text names another place: not an alias
