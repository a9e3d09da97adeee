"""Estimate weights and thresholds from a labelled stream (``bingxian dedup fit``).

1. Replay the stream with the *true* clusters deciding merges, so tickets look as
   the city formed them, and collect every (report, candidate) pair the index would
   score for reports of the fitting split, labelled same issue or not.
2. Fellegi–Sunter: per feature and level, m = P(level | same issue) and
   u = P(level | different issues) among those in-block pairs, smoothed towards the
   pooled level frequency so a level never seen gets a weight near 0, not ±∞;
   weight = log2(m/u). A missing field is excluded from both and weighs 0.
3. Calibration: address, distance and category say much the same thing, so their
   bits must not simply add up. A logistic regression of the label on each
   feature's FS weight gives one non-negative scale per feature (ln 2 if the
   features were independent) and the prior log-odds; the final weights are the FS
   weights times scale / ln 2, still in bits, still 0 when missing.
4. Thresholds from the per-report best candidate: MERGE where the objective is met
   (best F1, or a target precision), REVIEW down to where it still finds
   duplicates within the review budget.
The fit is repeated once with the fitted model, because which members a ticket keeps
for comparison depends on the model's own scores.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dedup.config import DedupConfig
from dedup.features import FEATURES, LEVELS
from dedup.index import TicketIndex
from dedup.labelled import LabelledReport, split_mask
from dedup.model import DedupModel
from dedup.replay import oracle_replay

# Pseudo-counts towards the pooled level frequency, as a share of each class's size, so
# that a level seen in neither class gets m = u (weight 0) instead of the ratio of the
# class sizes.
SMOOTHING = 0.05
L2 = 1e-3


@dataclass
class PairSet:
    """Labelled in-block pairs: levels per feature (pairs × features), labels, report positions,
    and whether the pair's problems conflict (``Comparison.problem_conflict``: never merged)."""

    levels: np.ndarray
    same: np.ndarray
    report: np.ndarray
    conflict: np.ndarray


def collect_pairs(
    stream: Sequence[LabelledReport], measured: Sequence[bool], model: DedupModel, config: DedupConfig
) -> PairSet:
    """Every open-candidate pair of measured reports, from a replay with the true clusters."""
    index = TicketIndex(model, config)
    cluster_of_ticket: dict[str, str] = {r.obs.report_id: r.cluster for r in stream}
    blocks: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    conflicts: list[np.ndarray] = []
    for position, found in oracle_replay(stream, index):
        if not measured[position] or found is None:
            continue
        keep = found.open_now
        if not keep.any():
            continue
        cluster = stream[position].cluster
        same = np.array([cluster_of_ticket[t] == cluster for t in found.ticket_ids], dtype=np.bool_)[keep]
        columns = [found.comparison.levels[f][keep] for f in FEATURES]
        blocks.append(np.stack(columns, axis=1).astype(np.int8))
        labels.append(same)
        owners.append(np.full(int(keep.sum()), position, dtype=np.int64))
        conflicts.append(found.comparison.problem_conflict()[keep])
    if not blocks:
        empty = np.zeros((0, len(FEATURES)), dtype=np.int8)
        none = np.zeros(0, dtype=np.bool_)
        return PairSet(empty, none, np.zeros(0, dtype=np.int64), none)
    return PairSet(
        np.concatenate(blocks), np.concatenate(labels), np.concatenate(owners), np.concatenate(conflicts)
    )


# Levels that must not lose weight as agreement falls (best first). A fitted weight
# that breaks the order is noise of a small sample; pooling adjacent violators keeps the
# score monotone in each feature, which reviewers rely on when they read a decision.
ORDERED: dict[str, tuple[str, ...]] = {
    "address": (
        "same_room",
        "same_building",
        "same_house",
        "road_near",
        "road_block",
        "road_far",
        "road_differs",
        "district_differs",
    ),
    "distance": LEVELS["distance"][1:],
    "time": LEVELS["time"][1:],
    "text": LEVELS["text"][1:],
    "tokens": LEVELS["tokens"][1:],
    "object": ("same", "overlap", "differ"),
    "symptom": ("same", "overlap", "differ"),
    "caller": ("same", "differ"),
    "category": ("same_code", "same_family", "sibling", "compatible"),
}


def pool_adjacent_violators(values: list[float], weights: list[float]) -> list[float]:
    """The non-increasing sequence closest to ``values`` (weighted least squares)."""
    blocks: list[list[float]] = []  # [mean, weight, count]
    for value, weight in zip(values, weights, strict=True):
        blocks.append([value, max(weight, 1e-9), 1])
        while len(blocks) > 1 and blocks[-2][0] < blocks[-1][0]:
            v2, w2, n2 = blocks.pop()
            v1, w1, n1 = blocks.pop()
            blocks.append([(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    out: list[float] = []
    for mean, _, count in blocks:
        out.extend([mean] * int(count))
    return out


def fs_weights(pairs: PairSet) -> dict[str, dict[str, float] | None]:
    """log2(m/u) per feature level; None for a feature never present in the data."""
    out: dict[str, dict[str, float] | None] = {}
    for j, feature in enumerate(FEATURES):
        n_levels = len(LEVELS[feature])
        column = pairs.levels[:, j]
        present = column > 0
        if not present.any() or not pairs.same[present].any() or pairs.same[present].all():
            out[feature] = None
            continue
        m_counts = np.bincount(column[present & pairs.same], minlength=n_levels)[1:].astype(float)
        u_counts = np.bincount(column[present & ~pairs.same], minlength=n_levels)[1:].astype(float)
        pooled = (m_counts + u_counts + 1.0) / (m_counts.sum() + u_counts.sum() + n_levels - 1)
        a, b = SMOOTHING * m_counts.sum(), SMOOTHING * u_counts.sum()
        m = (m_counts + a * pooled) / (m_counts.sum() + a)
        u = (u_counts + b * pooled) / (u_counts.sum() + b)
        table = {LEVELS[feature][i + 1]: float(np.log2(m[i] / u[i])) for i in range(n_levels - 1)}
        counts = {LEVELS[feature][i + 1]: float(m_counts[i] + u_counts[i]) for i in range(n_levels - 1)}
        chain = ORDERED.get(feature, ())
        if chain:
            pooled_values = pool_adjacent_violators([table[lv] for lv in chain], [counts[lv] for lv in chain])
            table.update(zip(chain, pooled_values, strict=True))
        out[feature] = table
    return out


def _logistic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Newton–Raphson logistic regression with a small ridge; column 0 of x is the intercept."""
    beta = np.zeros(x.shape[1])
    ridge = np.full(x.shape[1], L2 * len(y))
    ridge[0] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ beta, -35, 35)))
        gradient = x.T @ (y - p) - ridge * beta
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(ridge) + 1e-9 * np.eye(x.shape[1])
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if np.max(np.abs(step)) < 1e-8:
            break
    return beta


def calibrate(pairs: PairSet, raw: dict[str, dict[str, float] | None]) -> tuple[dict[str, float], float]:
    """Non-negative scale per fitted feature, and the prior in bits."""
    fitted = [f for f in FEATURES if raw[f] is not None]
    columns = []
    for feature in fitted:
        table = np.array([0.0] + [raw[feature][lv] for lv in LEVELS[feature][1:]])  # type: ignore[index]
        columns.append(table[pairs.levels[:, FEATURES.index(feature)]])
    active = list(range(len(fitted)))
    y = pairs.same.astype(float)
    while True:
        x = np.column_stack([np.ones(len(y)), *(columns[i] for i in active)])
        beta = _logistic(x, y)
        negative = [active[k] for k, b in enumerate(beta[1:]) if b < 0]
        if not negative:
            break
        active = [i for i in active if i not in negative]
    scales = dict.fromkeys(fitted, 0.0)
    for k, i in enumerate(active):
        scales[fitted[i]] = float(beta[k + 1] / math.log(2))
    return scales, float(beta[0] / math.log(2))


@dataclass
class Thresholds:
    """Chosen thresholds and what they gave on the fitting data."""

    merge: float
    review: float
    precision: float
    recall: float
    f1: float
    review_share: float
    review_recall: float


def choose_thresholds(
    best: np.ndarray,
    is_dup: np.ndarray,
    *,
    objective: str,
    review_budget: float,
    review_recall: float,
    no_merge: np.ndarray | None = None,
) -> Thresholds:
    """Thresholds from each report's best open-candidate score (−inf when it had none).

    ``no_merge`` marks reports whose best candidate can be REVIEW at most (a problem
    conflict, ``DedupConfig.review_problem_conflict``): they never count as merged,
    and above the merge threshold they are in the REVIEW band.
    """
    if no_merge is None:
        no_merge = np.zeros(len(best), dtype=np.bool_)
    n, dups = len(best), int(is_dup.sum())
    finite = np.unique(best[np.isfinite(best)])
    if len(finite) == 0 or dups == 0:
        return Thresholds(math.inf, math.inf, 0.0, 0.0, 0.0, 0.0, 0.0)
    cuts = np.concatenate([(finite[:-1] + finite[1:]) / 2, [finite[-1] + 0.5]])

    def measure(t: float) -> tuple[float, float, float]:
        merged = (best >= t) & ~no_merge
        tp = int((merged & is_dup).sum())
        p = tp / merged.sum() if merged.any() else 1.0
        r = tp / dups
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    scored = [(t, *measure(t)) for t in cuts]
    if objective == "f1":
        merge, p, r, f1 = max(scored, key=lambda s: (round(s[3], 9), s[0]))
    else:
        target = float(objective.split(":", 1)[1])
        ok = [s for s in scored if s[1] >= target]
        merge, p, r, f1 = min(ok, key=lambda s: s[0]) if ok else max(scored, key=lambda s: (s[1], s[0]))
    merged = (best >= merge) & ~no_merge
    review, share, rec = merge, float(((best >= merge) & no_merge).sum() / n), r
    for t in sorted((c for c in cuts if c < merge), reverse=True):
        band = (best >= t) & ~merged
        s = band.sum() / n
        if s > review_budget:
            break
        covered = int(((best >= t) & is_dup).sum()) / dups
        if covered > rec + 1e-12:
            review, share, rec = float(t), float(s), covered
        if rec >= review_recall:
            break
    return Thresholds(float(merge), float(review), float(p), float(r), float(f1), float(share), float(rec))


def fit(
    stream: Sequence[LabelledReport],
    split: str,
    base: DedupModel,
    config: DedupConfig,
    *,
    version: str,
    objective: str = "f1",
    review_budget: float = 0.05,
    review_recall: float = 0.97,
    rounds: int = 2,
    source: str = "",
) -> DedupModel:
    """A model fitted on the ``split`` of ``stream`` (see the module docstring)."""
    measured = split_mask(stream, split)
    model = base
    for _ in range(rounds):
        pairs = collect_pairs(stream, measured, model, config)
        raw = fs_weights(pairs)
        scales, prior = calibrate(pairs, raw)
        weights: dict[str, dict[str, float]] = {}
        for feature in FEATURES:
            table = raw[feature]
            if table is None:
                weights[feature] = dict(base.weights.get(feature, {}))
            else:
                weights[feature] = {lv: w * scales[feature] for lv, w in table.items()}
        scored = DedupModel(version=version, weights=weights, merge_threshold=0.0, review_threshold=0.0)
        tables = [scored.table(f) for f in FEATURES]
        pair_scores = sum(tables[j][pairs.levels[:, j]] for j in range(len(FEATURES)))
        best = np.full(len(stream), -np.inf)
        best_clear = np.full(len(stream), -np.inf)  # best among pairs without a problem conflict
        if len(pairs.report):
            np.maximum.at(best, pairs.report, pair_scores)
            clear = ~pairs.conflict
            np.maximum.at(best_clear, pairs.report[clear], pair_scores[clear])
        no_merge = (best_clear < best) if config.review_problem_conflict else np.zeros(len(best), bool)
        seen: set[str] = set()
        is_dup = np.zeros(len(stream), dtype=np.bool_)
        for i, report in enumerate(stream):
            is_dup[i] = report.cluster in seen
            seen.add(report.cluster)
        chosen = np.array(measured, dtype=np.bool_)
        th = choose_thresholds(
            best[chosen],
            is_dup[chosen],
            objective=objective,
            review_budget=review_budget,
            review_recall=review_recall,
            no_merge=no_merge[chosen],
        )
        model = DedupModel(
            version=version,
            weights=weights,
            merge_threshold=round(th.merge, 4),
            review_threshold=round(th.review, 4),
            meta={
                "source": source,
                "split": split,
                "objective": objective,
                "pairs": len(pairs.same),
                "matching_pairs": int(pairs.same.sum()),
                "reports": int(chosen.sum()),
                "duplicates": int(is_dup[chosen].sum()),
                "prior_bits": round(prior, 4),
                "calibration_scale": {f: round(s, 4) for f, s in scales.items()},
                "not_fitted": [f for f in FEATURES if raw[f] is None],
                "fit_figures": {
                    "precision": round(th.precision, 4),
                    "recall": round(th.recall, 4),
                    "f1": round(th.f1, 4),
                    "review_share": round(th.review_share, 4),
                    "merge_or_review_recall": round(th.review_recall, 4),
                },
            },
        )
    return model
