"""Measures of a replayed stream against its ground truth.

Per report, the duplicate decision: a report is a true duplicate when an earlier
report of the same real-world issue is in the stream; the decision says duplicate
when the band is MERGE. Also: whether a merge went to the right ticket (the one
the issue's earlier reports opened), B-cubed precision and recall of the ticket
clusters, the size of the REVIEW band, and the confusion of truth and bands.

On the simulator, a *near-miss pair* is a near-miss issue and the issue it was built
to imitate (``near_miss_of``); merging one into the other is the mistake the near
misses exist to provoke. A false merge of a near-miss issue with some third, unrelated
issue is an ordinary false merge (it lowers MERGE precision like any other); it is
counted apart so the two are never mixed up.

Labels are people's decisions and can leave a duplicate unmarked. A false merge is
*tied* when the labels' own records put the report with the ticket it was merged into:
the city closed it within two minutes of a report the ticket held (one fix), or it was
entered within two minutes of one with the same address, category and text (one
request typed twice). Tied merges still count as false in every figure above; they are
counted apart, with the F1 they would give, so a reader can tell an engine's mistakes
from gaps in the labels (docs/dedup.md, "What the labels leave out").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from dedup.decision import MERGE, NEW, REVIEW
from dedup.labelled import LabelledReport
from dedup.replay import Outcome

BANDS = (MERGE, REVIEW, NEW)
TIE_MS = 2 * 60 * 1000  # "within two minutes": one fix, or one request entered twice
CLOSED_TOGETHER = "closed together"
ENTERED_TWICE = "entered twice"


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class Metrics:
    """Figures of one evaluation (see the module docstring for definitions)."""

    reports: int
    true_duplicates: int
    merged: int
    true_merges: int
    right_ticket: int
    precision: float
    recall: float
    f1: float
    right_ticket_rate: float
    review: int
    review_share: float
    review_or_merge_recall: float
    review_or_merge_precision: float
    bcubed_precision: float
    bcubed_recall: float
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    near_miss_merged: int = 0  # false merges of a near miss with the issue it imitates
    near_miss_by_type: dict[str, int] = field(default_factory=dict)  # those, by simulator near-miss type
    near_miss_other_merged: int = 0  # false merges of a near-miss issue with an unrelated issue
    recurrences: int = 0
    flagged: int = 0
    flagged_linked: int = 0
    review_confirmable: int = 0  # REVIEW of a true duplicate whose flagged ticket is the right one
    tied: dict[str, int] = field(default_factory=dict)  # false merges the labels' records tie, by how

    @property
    def tied_f1(self) -> float:
        """F1 if the tied false merges had been labelled duplicates of their tickets."""
        tied = sum(self.tied.values())  # relabelled: right merges, and duplicates too
        right = self.true_merges + tied
        return _f1(_ratio(right, self.merged), _ratio(right, self.true_duplicates + tied))

    @property
    def after_review_precision(self) -> float:
        """MERGE precision once a person has confirmed the REVIEWs flagged against the right ticket.

        The person rejects the others, so they add no false merge.
        """
        merged = self.true_merges + self.review_confirmable
        return _ratio(merged, self.merged + self.review_confirmable)

    @property
    def after_review_recall(self) -> float:
        """Duplicates merged once a person has confirmed the REVIEWs flagged against the right ticket."""
        return _ratio(self.true_merges + self.review_confirmable, self.true_duplicates)


def _near_miss_pair(imitates: dict[str, tuple[str | None, str | None]], a: str, b: str) -> str | None:
    """The near-miss type when clusters ``a`` and ``b`` are a near miss and the issue it imitates."""
    for near, other in ((a, b), (b, a)):
        original, kind = imitates.get(near, (None, None))
        if original == other:
            return kind or "unknown"
    return None


def _tie(report: LabelledReport, held: Sequence[LabelledReport]) -> str | None:
    """How the labels' own records put ``report`` with a ticket holding ``held``, if they do."""
    if report.closed_ms is not None and any(
        r.closed_ms is not None and abs(r.closed_ms - report.closed_ms) <= TIE_MS for r in held
    ):
        return CLOSED_TOGETHER
    obs = report.obs
    if obs.address and any(
        (r.obs.address, r.obs.category_code, r.obs.description)
        == (obs.address, obs.category_code, obs.description)
        and abs(r.obs.event_time_ms - obs.event_time_ms) <= TIE_MS
        for r in held
    ):
        return ENTERED_TWICE
    return None


def evaluate(outcomes: Sequence[Outcome], measured: Sequence[bool]) -> Metrics:
    """Metrics over the outcomes whose ``measured`` flag is set (the split), in stream context."""
    seen: set[str] = set()
    primary: dict[str, LabelledReport] = {}  # ticket id -> the report that opened it
    held: dict[str, list[LabelledReport]] = {}  # ticket id -> its reports so far
    truth: list[bool] = []
    ties: list[str | None] = []  # per outcome: how a false merge is tied (see the module docstring)
    for outcome in outcomes:
        report = outcome.report
        is_dup = report.cluster in seen
        truth.append(is_dup)
        seen.add(report.cluster)
        if outcome.ticket_id == report.obs.report_id:
            primary[outcome.ticket_id] = report
        members = held.setdefault(outcome.ticket_id, [])
        false_merge = outcome.decision.band == MERGE and not is_dup
        ties.append(_tie(report, members) if false_merge else None)
        members.append(report)

    # Near-miss issue -> (the issue it imitates, how), from its first report.
    imitates = {
        o.report.cluster: (o.report.near_miss_of, o.report.near_miss_type)
        for o in outcomes
        if o.report.near_miss_of is not None
    }
    tp = fp = fn = right = review = mr_tp = mr_fp = near_miss = near_other = recurrences = confirmable = 0
    flagged = flagged_linked = 0
    confusion = {"duplicate": Counter[str](), "new": Counter[str]()}
    near_types = Counter[str]()
    by_kind: dict[str, Counter[str]] = {}
    tied = Counter[str]()
    chosen = [(o, t) for o, t, m in zip(outcomes, truth, measured, strict=True) if m]
    tied.update(tie for tie, m in zip(ties, measured, strict=True) if m and tie is not None)
    for outcome, is_dup in chosen:
        band = outcome.decision.band
        report = outcome.report
        confusion["duplicate" if is_dup else "new"][band] += 1
        if report.kind is not None:
            by_kind.setdefault(report.kind, Counter())[band] += 1
        if outcome.decision.recurrence_of is not None:
            recurrences += 1
        if report.flagged:
            flagged += 1
            flagged_linked += band in (MERGE, REVIEW)
        if band == REVIEW:
            review += 1
            flagged_against = primary.get(outcome.decision.ticket_id)  # type: ignore[arg-type]
            confirmable += (
                is_dup and flagged_against is not None and flagged_against.cluster == report.cluster
            )
        if band in (MERGE, REVIEW):
            mr_tp += is_dup
            mr_fp += not is_dup
        if band == MERGE:
            opener = primary.get(outcome.ticket_id)
            if is_dup:
                tp += 1
                right += opener is not None and opener.cluster == report.cluster
            else:
                fp += 1
            if opener is not None and opener.cluster != report.cluster:
                pair = _near_miss_pair(imitates, report.cluster, opener.cluster)
                if pair is not None:
                    near_miss += 1
                    near_types[pair] += 1
                elif report.cluster in imitates or opener.cluster in imitates:
                    near_other += 1
        elif is_dup:
            fn += 1

    # B-cubed over the measured reports: predicted cluster = ticket, true cluster = issue.
    predicted: dict[str, list[str]] = {}
    actual: dict[str, list[str]] = {}
    for outcome, _ in chosen:
        predicted.setdefault(outcome.ticket_id, []).append(outcome.report.cluster)
        actual.setdefault(outcome.report.cluster, []).append(outcome.ticket_id)
    bp = br = 0.0
    for outcome, _ in chosen:
        mates = predicted[outcome.ticket_id]
        same = sum(1 for c in mates if c == outcome.report.cluster)
        bp += same / len(mates)
        br += same / len(actual[outcome.report.cluster])
    n = len(chosen)
    true_dups = tp + fn
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, true_dups)
    return Metrics(
        reports=n,
        true_duplicates=true_dups,
        merged=tp + fp,
        true_merges=tp,
        right_ticket=right,
        precision=precision,
        recall=recall,
        f1=_f1(precision, recall),
        right_ticket_rate=_ratio(right, tp),
        review=review,
        review_share=_ratio(review, n),
        review_or_merge_recall=_ratio(mr_tp, true_dups),
        review_or_merge_precision=_ratio(mr_tp, mr_tp + mr_fp),
        bcubed_precision=_ratio(bp, n),
        bcubed_recall=_ratio(br, n),
        confusion={k: {b: v[b] for b in BANDS} for k, v in confusion.items()},
        by_kind={k: {b: v[b] for b in BANDS} for k, v in sorted(by_kind.items())},
        near_miss_merged=near_miss,
        near_miss_by_type=dict(sorted(near_types.items())),
        near_miss_other_merged=near_other,
        recurrences=recurrences,
        flagged=flagged,
        flagged_linked=flagged_linked,
        review_confirmable=confirmable,
        tied={k: tied[k] for k in (CLOSED_TOGETHER, ENTERED_TWICE) if tied[k]},
    )


def format_metrics(m: Metrics, *, title: str) -> list[str]:
    """Readable lines for the CLI and the docs."""
    if m.true_duplicates == 0 and m.flagged:
        # No parent ids (NYC): clustering cannot be scored, only the flow of flagged duplicates.
        counts = {b: sum(row[b] for row in m.confusion.values()) for b in BANDS}
        return [
            title,
            f"  reports                    {m.reports}",
            "  bands                      " + ", ".join(f"{b} {counts[b]}" for b in BANDS),
            f"  REVIEW band                {m.review_share:.1%}",
            f"  recurrences linked         {m.recurrences}",
            f"  city-flagged duplicates    {m.flagged}, linked to an earlier request in the sample "
            f"(MERGE or REVIEW) {m.flagged_linked}",
            "  (no parent ids are published: precision and recall cannot be measured on this file)",
        ]
    lines = [
        title,
        f"  reports measured           {m.reports}",
        f"  true duplicates            {m.true_duplicates}",
        f"  MERGE decisions            {m.merged} ({m.true_merges} correct)",
        f"  duplicate decision         P {m.precision:.3f}  R {m.recall:.3f}  F1 {m.f1:.3f}",
        f"  right ticket (of correct)  {m.right_ticket}/{m.true_merges} = {m.right_ticket_rate:.3f}",
        f"  MERGE+REVIEW               P {m.review_or_merge_precision:.3f}  R {m.review_or_merge_recall:.3f}",
        f"  REVIEW band                {m.review} reports = {m.review_share:.1%}",
        f"  after review               P {m.after_review_precision:.3f}  R {m.after_review_recall:.3f}  "
        f"(a person confirms the {m.review_confirmable} REVIEWs flagged against the right ticket)",
        f"  B-cubed                    P {m.bcubed_precision:.3f}  R {m.bcubed_recall:.3f}",
        f"  recurrences linked         {m.recurrences}",
        "  confusion (truth × band)   " + "  ".join(f"{b:>6}" for b in BANDS),
    ]
    for truth, row in m.confusion.items():
        lines.append(f"    {truth:<24} " + "  ".join(f"{row[b]:>6}" for b in BANDS))
    if m.by_kind:
        lines.append("  by simulator kind          " + "  ".join(f"{b:>6}" for b in BANDS))
        for kind, row in m.by_kind.items():
            lines.append(f"    {kind:<24} " + "  ".join(f"{row[b]:>6}" for b in BANDS))
        lines.append(
            f"  near-miss pairs merged     {m.near_miss_merged} (a near miss with the issue it imitates)"
        )
        for near, count in m.near_miss_by_type.items():
            lines.append(f"    {near:<32} {count:>6}")
        lines.append(
            f"  near misses merged else    {m.near_miss_other_merged} "
            "(a near-miss issue with an unrelated one; counted in MERGE P)"
        )
    if m.flagged:
        lines.append(
            f"  city-flagged duplicates    {m.flagged}, linked to an earlier request {m.flagged_linked}"
        )
    if m.tied:
        how = ", ".join(f"{k} {v}" for k, v in m.tied.items())
        lines.append(
            f"  false merges tied          {sum(m.tied.values())} of {m.merged - m.true_merges} ({how}: "
            f"the labels' own records put them with their ticket); F1 if labelled {m.tied_f1:.3f}"
        )
    return lines
