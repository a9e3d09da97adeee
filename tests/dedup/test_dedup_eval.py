"""Loaders, replay, metrics, fit and the CLI on small files written by the tests."""

import csv
import json

import pytest
from typer.testing import CliRunner

from dedup import DedupConfig, LabelledDataError, Observation, load_model
from dedup.evaluate import evaluate, format_metrics
from dedup.fit import collect_pairs, fit, pool_adjacent_violators
from dedup.labelled import LabelledReport, split_mask
from dedup.loaders.chicago import REQUIRED, load_chicago
from dedup.replay import Outcome

HOUR = 3_600_000


def chicago_row(number, sr_type, created, address, lat, lon, *, closed="", parent=""):
    return {
        "sr_number": number,
        "sr_type": sr_type,
        "origin": "Phone Call",
        "created_date": created,
        "closed_date": closed,
        "street_address": address,
        "latitude": str(lat),
        "longitude": str(lon),
        "duplicate": "True" if parent else "False",
        "parent_sr_number": parent,
    }


def write_chicago(path, rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=REQUIRED)
        writer.writeheader()
        writer.writerows(rows)
    return path


def synthetic_chicago(path, issues=60):
    """Issues on distinct blocks; about half are reported again within hours at the same address."""
    rows = []
    for i in range(issues):
        hour = i % 20
        created = f"2021-01-0{1 + i // 20}T{hour:02d}:00:00"
        address = f"{1000 + 100 * i} S STATE ST"
        lat, lon = 41.70 + 0.003 * i, -87.62
        number = f"SR-{i:04d}"
        rows.append(chicago_row(number, "Street Light Out Complaint", created, address, lat, lon))
        if i % 2 == 0:
            later = f"2021-01-0{1 + i // 20}T{hour:02d}:30:00"
            rows.append(
                chicago_row(
                    f"SR-{i:04d}d", "Street Light Out Complaint", later, address, lat, lon, parent=number
                )
            )
    return write_chicago(path, rows)


def test_chicago_loader_excludes_info_calls_and_labels_clusters(tmp_path):
    """Info-only calls are left out; a duplicate's cluster is its parent."""
    path = write_chicago(
        tmp_path / "c.csv",
        [
            chicago_row("A", "Street Light Out Complaint", "2021-01-01T00:00:00", "1 N A ST", 41.9, -87.6),
            chicago_row("I", "311 INFORMATION ONLY CALL", "2021-01-01T00:01:00", "1 N A ST", 41.9, -87.6),
            chicago_row(
                "B", "Street Light Out Complaint", "2021-01-01T00:02:00", "1 N A ST", 41.9, -87.6, parent="A"
            ),
        ],
    )
    stream = load_chicago(path)
    assert [(r.obs.report_id, r.cluster) for r in stream] == [("A", "A"), ("B", "A")]
    assert stream[0].obs.category_code.startswith("06")


def test_chicago_loader_names_line_and_field(tmp_path):
    """A bad timestamp is reported with file, line and field."""
    path = write_chicago(
        tmp_path / "bad.csv",
        [chicago_row("A", "Graffiti Removal Request", "yesterday", "1 N A ST", 41.9, -87.6)],
    )
    with pytest.raises(LabelledDataError, match=r"bad\.csv:2: field 'created_date'"):
        load_chicago(path)


def outcome(report_id, cluster, band, ticket_id, t, kind=None, near=None, flagged=None, near_of=None):
    obs = Observation(report_id=report_id, event_time_ms=t)

    class D:
        pass

    decision = D()
    decision.band = band
    decision.ticket_id = flagged if band == "REVIEW" else ticket_id
    decision.recurrence_of = None
    report = LabelledReport(obs, cluster, kind=kind, near_miss_type=near, near_miss_of=near_of)
    return Outcome(report, decision, ticket_id)


def test_metrics_on_a_hand_made_stream():
    """Counts follow the definitions: one right merge, one wrong-ticket merge, one false merge, one miss."""
    outcomes = [
        outcome("a1", "A", "NEW", "a1", 0),
        outcome("b1", "B", "NEW", "b1", 1),
        outcome("a2", "A", "MERGE", "a1", 2),  # right ticket
        outcome("b2", "B", "MERGE", "a1", 3),  # duplicate, wrong ticket
        outcome("c1", "C", "MERGE", "b1", 4),  # not a duplicate
        outcome("a3", "A", "REVIEW", "a3", 5, flagged="a1"),  # missed by MERGE, caught by REVIEW
        outcome("b3", "B", "REVIEW", "b3", 6, flagged="a1"),  # a duplicate flagged against the wrong ticket
        outcome("d1", "D", "REVIEW", "d1", 7, flagged="b1"),  # not a duplicate: the person says no
    ]
    m = evaluate(outcomes, [True] * len(outcomes))
    assert (m.true_duplicates, m.merged, m.true_merges, m.right_ticket) == (4, 3, 2, 1)
    assert m.precision == pytest.approx(2 / 3)
    assert m.recall == pytest.approx(2 / 4)
    assert m.review == 3
    assert m.review_or_merge_recall == pytest.approx(4 / 4)
    # After review only a3 can be confirmed: b3's flagged ticket is A's, d1 repeats nothing.
    assert m.review_confirmable == 1
    assert m.after_review_recall == pytest.approx(3 / 4)
    assert m.after_review_precision == pytest.approx(3 / 4)
    assert m.confusion["new"]["MERGE"] == 1
    # B-cubed precision of c1: its ticket b1 holds {b1 (B), c1 (C)} → 1/2.
    assert 0 < m.bcubed_precision < 1


def test_a_false_merge_the_labels_own_records_put_with_the_ticket_is_counted_as_tied():
    """Closed within two minutes of a report the ticket held, or the same request entered twice.

    Both stay false merges in every figure; only the tied count and its F1 see them.
    """
    minute = 60_000

    def merged(report_id, cluster, t, closed, *, band="MERGE", text="灯不亮"):
        obs = Observation(
            report_id=report_id, event_time_ms=t, address="1 N A ST", category_code="0601", description=text
        )
        decision = type("D", (), {"band": band, "ticket_id": "a1", "recurrence_of": None})()
        return Outcome(LabelledReport(obs, cluster, closed_ms=closed), decision, "a1")

    outcomes = [
        merged("a1", "A", 0, 100 * minute, band="NEW"),
        merged("a2", "A", 5 * minute, 100 * minute),  # a true duplicate closed together: not a false merge
        merged("c1", "C", 60 * minute, 101 * minute),  # closed one minute after a1: one fix
        merged("d1", "D", 1 * minute, 900 * minute),  # a1 typed again a minute later
        merged("e1", "E", 2 * minute, 950 * minute, text="灯杆倒了"),  # a minute later, but other words
        merged("f1", "F", 30 * minute, 110 * minute),  # neither: closed ten minutes apart
    ]
    m = evaluate(outcomes, [True] * len(outcomes))
    assert (m.merged, m.true_merges) == (5, 1)
    assert m.precision == pytest.approx(1 / 5)
    assert m.tied == {"closed together": 1, "entered twice": 1}
    assert m.tied_f1 == pytest.approx(2 * 3 / (2 * 3 + 2 + 0))
    assert any("false merges tied          2 of 4" in line for line in format_metrics(m, title="t"))


def test_a_near_miss_pair_is_a_near_miss_merged_with_the_issue_it_imitates_either_way():
    """Pairs are counted by cluster, whichever side merged.

    A near miss merged with a third, unrelated issue is counted apart, not as a pair.
    """
    outcomes = [
        outcome("o1", "O", "NEW", "o1", 0, "original"),
        outcome("n1", "N", "MERGE", "o1", 1, "near_miss", "different_problem_same_address", near_of="O"),
        outcome("p1", "P", "NEW", "p1", 2, "original"),
        outcome("m1", "M", "NEW", "m1", 3, "near_miss", "after_closure", near_of="P"),
        outcome("p2", "P", "MERGE", "m1", 4, "repeat"),  # the original's repeat into its near miss's ticket
        outcome("n2", "N", "MERGE", "o1", 5, "repeat"),  # the near miss's repeat, no near-miss mark itself
        outcome("s1", "S", "MERGE", "m1", 6, "single"),  # an unrelated issue into a near miss's ticket
        outcome("o2", "O", "MERGE", "o1", 7, "repeat"),  # a right merge: not a near-miss pair
        outcome("x1", "X", "MERGE", "o1", 8, "single"),  # wrong, but no near miss involved
    ]
    m = evaluate(outcomes, [True] * len(outcomes))
    assert m.near_miss_merged == 3
    assert m.near_miss_by_type == {"after_closure": 1, "different_problem_same_address": 2}
    assert m.near_miss_other_merged == 1
    # p2 and n2 are duplicates merged into the wrong ticket; only o2 found its own.
    assert (m.merged, m.true_merges, m.right_ticket) == (6, 3, 1)


def test_split_halves_partition_the_time_range():
    """first-half and second-half cover every report exactly once."""
    stream = [
        LabelledReport(Observation(report_id=str(i), event_time_ms=i * HOUR), str(i)) for i in range(11)
    ]
    first, second = split_mask(stream, "first-half"), split_mask(stream, "second-half")
    assert all(a != b for a, b in zip(first, second, strict=True))
    assert sum(first) == 5


def test_pool_adjacent_violators_is_monotone():
    """The pooled sequence never increases and keeps the weighted mean."""
    out = pool_adjacent_violators([3.0, 1.0, 2.0, -1.0], [1.0, 1.0, 1.0, 1.0])
    assert out == sorted(out, reverse=True)
    assert sum(out) == pytest.approx(5.0)


def test_fit_learns_that_same_address_means_duplicate(tmp_path):
    """On data where duplicates share the address, the fit rewards it and the model finds them."""
    stream = load_chicago(synthetic_chicago(tmp_path / "s.csv"))
    model = fit(stream, "all", load_model(), __import__("dedup").DedupConfig(), version="t")
    assert model.weight("address", "same_house") > 0
    assert model.weight("address", "road_far") < model.weight("address", "same_house")
    from dedup import TicketIndex
    from dedup.replay import replay

    metrics = evaluate(replay(stream, TicketIndex(model)), [True] * len(stream))
    assert metrics.recall > 0.9
    assert metrics.precision > 0.9


def test_cli_fit_then_eval(tmp_path):
    """bingxian dedup fit writes a model file that bingxian dedup eval reads."""
    from gateway.cli import app

    data = synthetic_chicago(tmp_path / "s.csv")
    out = tmp_path / "m.json"
    runner = CliRunner()
    result = runner.invoke(
        app, ["dedup", "fit", str(data), "--source", "chicago", "--split", "all", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["version"] == "chicago-all"
    result = runner.invoke(app, ["dedup", "eval", str(data), "--source", "chicago", "--model", str(out)])
    assert result.exit_code == 0, result.output
    assert "duplicate decision" in result.output


def test_cli_user_error_is_one_line(tmp_path):
    """A missing file is one line naming it and exit code 2, not a traceback."""
    from gateway.cli import app

    result = CliRunner().invoke(app, ["dedup", "eval", str(tmp_path / "none.csv"), "--source", "chicago"])
    assert result.exit_code == 2
    assert "none.csv" in result.output
    assert "Traceback" not in result.output


def test_simulator_loader_maps_records_through_the_connectors(tmp_path):
    """Every well-formed, dispatchable simulated record becomes one labelled observation."""
    from connectors.simulator import generate, write_files
    from dedup.loaders.simulator import load_simulator

    sim = generate(5, 300)
    write_files(sim, tmp_path)
    stream = load_simulator(tmp_path / "truth.jsonl")
    truth = [json.loads(line) for line in (tmp_path / "truth.jsonl").read_text().splitlines()]
    expected_ids = {t["report_id"] for t in truth if t["kind"] != "malformed"}
    loaded_ids = {r.obs.report_id for r in stream}
    assert loaded_ids <= expected_ids
    assert len(loaded_ids) > 0.8 * len(expected_ids)  # filings (事件报备) are left out
    by_id = {t["report_id"]: t for t in truth}
    assert all(r.cluster == by_id[r.obs.report_id]["issue_id"] for r in stream)
    near = [r for r in stream if r.near_miss_of is not None]
    assert near, "seed 5 plans near misses"
    assert all(r.near_miss_of == by_id[r.obs.report_id]["near_miss_of"] != r.cluster for r in near)
    times = [r.obs.event_time_ms for r in stream]
    assert times == sorted(times)


def test_thresholds_never_count_a_guarded_report_as_merged():
    """A report whose best candidate may be REVIEW at most is in the REVIEW band, not merged."""
    import numpy as np

    from dedup.fit import choose_thresholds

    best = np.array([10.0, 10.0, 1.0, 1.0])
    is_dup = np.array([True, False, False, False])
    guarded = np.array([False, True, False, False])
    th = choose_thresholds(
        best, is_dup, objective="f1", review_budget=0.5, review_recall=1.0, no_merge=guarded
    )
    assert (th.precision, th.recall, th.review_share) == (1.0, 1.0, 0.25)
    plain = choose_thresholds(best, is_dup, objective="precision:1.0", review_budget=0.5, review_recall=1.0)
    assert plain.merge > 10.0  # without the guard the false pair at 10 blocks that threshold


def test_fit_counts_exclusive_symptoms_as_conflicts_like_the_decision(make_obs, default_model):
    """A missing cover next to a broken one is a conflict pair for the fit too, so its thresholds
    never count such a pair as a merge; the same cover reported again is not."""
    said = {"category_code": "0602", "title": "窨井盖缺失"}
    stream = [
        LabelledReport(make_obs(report_id="a", description="张杨路500号井盖不见了", **said), "A"),
        LabelledReport(
            make_obs(report_id="b", event_time_ms=HOUR, description="张杨路500号井盖松动", **said), "B"
        ),
        LabelledReport(
            make_obs(report_id="c", event_time_ms=2 * HOUR, description="张杨路500号窨井盖被偷了", **said),
            "A",
        ),
    ]
    pairs = collect_pairs(stream, [True] * len(stream), default_model, DedupConfig())
    by_report = {
        (int(r), bool(same)): bool(c)
        for r, same, c in zip(pairs.report, pairs.same, pairs.conflict, strict=True)
    }
    assert by_report[(1, False)] is True  # broken against missing
    assert by_report[(2, True)] is False  # missing again, its own ticket


def one_signal(tmp_path, *reports):
    """Traffic-signal requests at one corner: (number, created hour, closed hour or None, parent)."""
    rows = [
        chicago_row(
            number,
            "Traffic Signal Out Complaint",
            f"2021-01-01T{hour:02d}:00:00",
            "7900 S WESTERN AVE",
            41.75,
            -87.68,
            closed="" if closed is None else f"2021-01-0{1 + closed // 24}T{closed % 24:02d}:00:00",
            parent=parent,
        )
        for number, hour, closed, parent in reports
    ]
    return load_chicago(write_chicago(tmp_path / "c.csv", rows))


def test_replay_closes_a_ticket_when_any_report_it_holds_is_closed(tmp_path):
    """The city closing a merged report closes the ticket: the next report is a recurrence, not a merge.

    Chicago's signal at 7900 S Western: the first request stayed open for days while the
    city fixed and closed a later one; reports after that fix are a new problem.
    """
    from dedup import TicketIndex
    from dedup.replay import replay

    stream = one_signal(tmp_path, ("SR-1", 8, 3 * 24 + 7, ""), ("SR-2", 9, 10, ""), ("SR-3", 11, 12, ""))
    first, second, third = replay(stream, TicketIndex(load_model()))
    assert second.decision.band == "MERGE"
    assert second.ticket_id == first.ticket_id
    assert third.decision.band == "NEW"
    assert third.decision.recurrence_of == first.ticket_id
    assert third.ticket_id == "SR-3"


def test_fit_replay_closes_tickets_the_same_way(tmp_path):
    """``dedup fit``'s oracle replay closes a cluster's ticket at its first report's closing too.

    Otherwise the fit would score pairs against tickets the evaluation never keeps open.
    """
    from dedup import TicketIndex
    from dedup.replay import oracle_replay

    stream = one_signal(
        tmp_path, ("SR-1", 8, 3 * 24 + 7, ""), ("SR-2", 9, 10, "SR-1"), ("SR-3", 11, None, "SR-1")
    )
    index = TicketIndex(load_model())
    for _ in oracle_replay(stream, index):
        pass
    assert not index.is_open("SR-1", stream[-1].obs.event_time_ms)
    assert "SR-3" in index
