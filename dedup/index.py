"""The in-memory index of one partition's open (and recently closed) tickets.

Deterministic by construction: every time is event time taken from observations,
ties are broken by explicit keys (newest report, then report id), and capped
candidate lists are cut in the same explicit order, so the same input in the same
order gives the same decisions whatever the wall clock, and a restored index
decides exactly like the one it was taken from.

No chaining: a ticket is compared through its primary report and at most
``max_members`` members, and a member is kept for comparison only if it matched the
*primary* at or above the merge threshold. A report that only resembles a member
of a member never becomes a comparison point, so a ticket cannot drift away from
the problem it was opened for.
"""

from __future__ import annotations

import heapq
import json
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from dedup.compare import Comparison, compare
from dedup.config import DedupConfig
from dedup.decision import (
    MERGE,
    NEW,
    NO_SHARED_PROBLEM,
    PROBLEM_DIFFERS,
    REVIEW,
    Band,
    Contribution,
    Decision,
    explain,
)
from dedup.entry import TicketEntry, decode_entry, encode_entry, entry_from_dict
from dedup.exceptions import DedupError, IndexEntryError
from dedup.features import FEATURES, LEVELS
from dedup.model import DedupModel
from dedup.normalize import NormalizedReport, Normalizer
from dedup.observation import Observation
from dedup.rows import NEVER, Hashed, RowStore, geo_cell, h64, neighbour_cells

_SNAPSHOT_MAGIC = b"BXDEDUP1"
Key = tuple[Any, ...]


class UnknownTicketError(DedupError, KeyError):
    """``add_member`` named a ticket the index does not hold (never opened, or expired)."""


@dataclass(frozen=True, slots=True)
class IndexStats:
    """Counters for metrics: sizes now, and totals since the index was built."""

    open_tickets: int
    closed_tickets: int
    rows: int
    decisions: int
    capped_decisions: int
    dropped_candidates: int


class Candidates:
    """The stored reports one observation is compared with, and the levels of each comparison."""

    __slots__ = ("aliases", "comparison", "dropped", "open_now", "rows", "ticket_ids")

    def __init__(
        self,
        rows: np.ndarray,
        open_now: np.ndarray,
        ticket_ids: list[str],
        comparison: Comparison,
        dropped: int,
        aliases: np.ndarray | None = None,
    ) -> None:
        self.rows = rows
        self.open_now = open_now  # False: a recently closed ticket (recurrence candidate)
        self.ticket_ids = ticket_ids
        self.comparison = comparison
        self.dropped = dropped
        self.aliases = aliases  # rows compared as the report's place under its other name


class _Ticket:
    __slots__ = (
        "closed_at",
        "family",
        "last_time",
        "member_count",
        "members",
        "opened_at",
        "primary",
        "tslot",
    )

    def __init__(self, tslot: int, family: str, opened_at: int) -> None:
        self.tslot = tslot
        self.family = family
        self.opened_at = opened_at
        self.closed_at: int | None = None
        self.member_count = 0
        self.primary = -1
        self.members: list[tuple[float, int, str, int]] = []  # (strength, time, report_id, row)
        self.last_time = opened_at


class TicketIndex:
    """Open tickets of one partition: ``decide`` a report, then record what was done with it."""

    def __init__(self, model: DedupModel, config: DedupConfig | None = None) -> None:
        self.model = model
        self.config = config or DedupConfig()
        self.normalizer = Normalizer(self.config)
        self._tables = {f: model.table(f) for f in FEATURES}
        # Every (feature, level) contribution the model can give, built once: a decision
        # picks its twelve from here instead of constructing them.
        self._explained = {
            f: tuple(Contribution(f, name, float(self._tables[f][i])) for i, name in enumerate(LEVELS[f]))
            for f in FEATURES
        }
        self._store = RowStore()
        self._tickets: dict[str, _Ticket] = {}
        self._keys: dict[Key, dict[int, None]] = {}
        self._family_rows: dict[str, int] = {}
        # Place aliases learned from stored reports that name both a compound and a
        # lane address (仁恒滨江园 = 浦东南路80弄), counted per row so that the map is a
        # function of the stored rows alone (snapshot, restore and changelog replay
        # rebuild it exactly): compound -> {(road, lane): rows} and back.
        self._lanes_of: dict[str, dict[tuple[str, str], int]] = {}
        self._compounds_of: dict[tuple[str, str], dict[str, int]] = {}
        self._compatible: dict[str, frozenset[str]] = {}
        self._dirty: dict[str, None] = {}
        self._next_tslot = 0
        # When each ticket falls out of its window, as a lazy min-heap of (deadline, tslot,
        # ticket_id): an entry is pushed whenever a deadline changes, and entries whose
        # ticket has gone or moved on are skipped when popped. Expiry then reads only the
        # tickets that are due, not every ticket held (which cost ~8 % of the gateway).
        self._expiry: list[tuple[int, int, str]] = []
        self._clock = -(2**62)
        # Automatic expiry runs once per event-time period of ``expire_every_s``, at the
        # period's start (``_expired_at``), never at whatever clock value happened to come
        # first: so which tickets are held is a function of the input alone, and an index
        # rebuilt from the changelog mid-period holds exactly what the uninterrupted one does.
        self._expired_at = -(2**62)
        self._unclassified = self.config.unclassified_family
        self._unclassified_h = h64(self._unclassified)
        self._exclusive = self.normalizer.lexicon.exclusive_masks
        self._recurrence_ms = int(self.config.recurrence_window_days * 86_400_000)
        self._expire_every_ms = self.config.expire_every_s * 1000
        self.decisions = 0
        self.capped_decisions = 0
        self.dropped_candidates = 0
        # The last decision's report, candidate rows, scores and alias rows: a merge that
        # follows reuses the score against the ticket's primary (``_strength``).
        self._decided: tuple[NormalizedReport, np.ndarray, np.ndarray, np.ndarray | None] | None = None

    # -- reading -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._tickets)

    def __contains__(self, ticket_id: object) -> bool:
        return ticket_id in self._tickets

    @property
    def clock_ms(self) -> int:
        """The latest event time the index has seen."""
        return self._clock

    @property
    def candidates_capped(self) -> int:
        """Decisions whose candidate list hit ``max_candidates`` (a counter for a metric)."""
        return self.capped_decisions

    def stats(self) -> IndexStats:
        """Current sizes and running totals."""
        closed = sum(1 for t in self._tickets.values() if t.closed_at is not None)
        return IndexStats(
            open_tickets=len(self._tickets) - closed,
            closed_tickets=closed,
            rows=len(self._store),
            decisions=self.decisions,
            capped_decisions=self.capped_decisions,
            dropped_candidates=self.dropped_candidates,
        )

    def normalize(self, obs: Observation) -> NormalizedReport:
        """The comparable features of ``obs`` (cached on the observation)."""
        return self.normalizer.normalize(obs)

    def _hashed(self, norm: NormalizedReport) -> Hashed:
        lexicon = self.normalizer.lexicon
        return Hashed(
            norm,
            lexicon.objects.mask(norm.objects),
            lexicon.symptoms.mask(norm.symptoms),
            lexicon.symptoms.mask(norm.said_symptoms),
        )

    def _families(self, family: str) -> list[str]:
        if family == self._unclassified:
            return sorted(f for f, n in self._family_rows.items() if n > 0)
        compatible = self._compatible.get(family)
        if compatible is None:
            compatible = self.config.compatible(family) | {self._unclassified}
            self._compatible[family] = compatible
        return sorted(compatible)

    def _own_keys(self, norm: NormalizedReport) -> list[Key]:
        f = norm.family
        keys: list[Key] = []
        if norm.caller:
            keys.append(("p", f, norm.caller))
        if norm.road and norm.house:
            keys.append(("h", f, norm.road, norm.house))
            keys.append(("n", f, norm.district or "", norm.house))
        if norm.compound:
            keys.append(("c", f, norm.compound))
        if norm.lat is not None and norm.lon is not None:
            keys.append(("g", f, *geo_cell(norm.lat, norm.lon, self.config.geo_cell_m)))
        if norm.road:
            keys.append(("r", f, norm.district or "", norm.road))
        return keys

    def _candidate_rows(self, norm: NormalizedReport) -> dict[int, None]:
        """Rows sharing a blocking key, most specific keys first."""
        families = self._families(norm.family)
        cells = (
            neighbour_cells(norm.lat, norm.lon, self.config.geo_cell_m)
            if norm.lat is not None and norm.lon is not None
            else []
        )
        lanes, compounds = self._aliases(norm)
        found: dict[int, None] = {}
        keys = self._keys
        for f in families:
            wanted: list[Key] = []
            if norm.caller:
                wanted.append(("p", f, norm.caller))
            if norm.road and norm.house:
                wanted.append(("h", f, norm.road, norm.house))
                wanted.append(("n", f, norm.district or "", norm.house))
            if norm.compound:
                wanted.append(("c", f, norm.compound))
            wanted.extend(("h", f, road, house) for road, house in lanes)
            wanted.extend(("c", f, compound) for compound in compounds)
            wanted.extend(("g", f, *cell) for cell in cells[:1])
            if norm.road:
                wanted.append(("r", f, norm.district or "", norm.road))
            wanted.extend(("g", f, *cell) for cell in cells[1:])
            for key in wanted:
                rows = keys.get(key)
                if rows:
                    found.update(rows)
        return found

    def _aliases(self, norm: NormalizedReport) -> tuple[list[tuple[str, str]], list[str]]:
        """Lane addresses known for the report's compound, and compounds known for its lane."""
        lanes: list[tuple[str, str]] = []
        compounds: list[str] = []
        if norm.compound and not (norm.road and norm.house):
            lanes = sorted(self._lanes_of.get(norm.compound, ()))
        if norm.road and norm.house and not norm.compound:
            compounds = sorted(self._compounds_of.get((norm.road, norm.house), ()))
        return lanes, compounds

    def _alias_rows(self, norm: NormalizedReport, idx: np.ndarray) -> np.ndarray | None:
        """Rows whose place is the report's place under another name (compound vs lane)."""
        lanes, compounds = self._aliases(norm)
        if not lanes and not compounds:
            return None
        lane_set, compound_set = set(lanes), set(compounds)
        norms = self._store.norms
        out = np.zeros(len(idx), dtype=np.bool_)
        for i, row in enumerate(idx):
            other = norms[row]
            assert other is not None
            if lane_set and other.road and other.house and not other.compound:
                out[i] = (other.road, other.house) in lane_set
            elif compound_set and other.compound and not (other.road and other.house):
                out[i] = other.compound in compound_set
        return out

    def _count_alias(self, norm: NormalizedReport, step: int) -> None:
        if not (norm.compound and norm.road and norm.house):
            return
        lane = (norm.road, norm.house)
        pairs = ((self._lanes_of, norm.compound, lane), (self._compounds_of, lane, norm.compound))
        for table, key, value in pairs:
            counts = table.setdefault(key, {})  # type: ignore[attr-defined]
            counts[value] = counts.get(value, 0) + step
            if counts[value] <= 0:
                del counts[value]
                if not counts:
                    del table[key]  # type: ignore[attr-defined]

    def candidates(self, obs: Observation) -> Candidates | None:
        """Every stored report ``obs`` is compared with, and the comparison levels (no scores).

        Open tickets inside their family's window and closed tickets inside the
        recurrence window; capped at ``max_candidates``. None when there are none.
        Also what ``bingxian dedup fit`` learns from.
        """
        norm = self.normalize(obs)
        found = self._candidate_rows(norm)
        if not found:
            return None
        store = self._store
        idx = np.fromiter(found, dtype=np.int64, count=len(found))
        t = norm.time_ms
        closed_at = store.ints["closed_at"][idx]
        # A ticket stays matchable for its family's window after its *last* report
        # (merged members included, whether kept for comparison or not), as expire()
        # keeps it: an unclosed 占道经营 reported again 30 h after its opening and 10 h
        # after its last repeat is still the same open ticket.
        gap = np.maximum(t - store.ints["last"][idx], store.ints["time"][idx] - t)
        open_now = (closed_at > t) & (gap <= store.ints["window"][idx])
        recent = (closed_at <= t) & (t - closed_at <= self._recurrence_ms)
        keep = open_now | recent
        idx, open_now = idx[keep], open_now[keep]
        dropped = 0
        if len(idx) > self.config.max_candidates:
            idx, open_now, dropped = self._cap(idx, open_now)
        if len(idx) == 0:
            return None
        aliases = self._alias_rows(norm, idx)
        comparison = compare(
            norm, self._hashed(norm), self._unclassified_h, store, idx, aliases, self._exclusive
        )
        return Candidates(
            idx,
            open_now,
            [store.ticket_ids[i] for i in idx.tolist()],
            comparison,
            dropped,  # type: ignore[misc]
            aliases,
        )

    def is_open(self, ticket_id: str, at_ms: int) -> bool:
        """Whether the index holds ``ticket_id`` and it was not closed at ``at_ms``."""
        ticket = self._tickets.get(ticket_id)
        return ticket is not None and (ticket.closed_at is None or ticket.closed_at > at_ms)

    def decide(self, obs: Observation) -> Decision:
        """MERGE into an open ticket, REVIEW, or NEW. Changes no ticket: counts, and keeps its scores."""
        self.decisions += 1
        model = self.model
        if obs.filing_only:
            return self._empty(explanation="仅报备 (filing only), 不并单 → NEW")
        found = self.candidates(obs)
        if found is None:
            return self._empty(explanation="无候选工单 → NEW")
        if found.dropped:
            self.capped_decisions += 1
            self.dropped_candidates += found.dropped
        store = self._store
        idx, open_now, comparison, dropped = found.rows, found.open_now, found.comparison, found.dropped
        scores = comparison.score(self._tables)
        self._decided = (self.normalize(obs), idx, scores, found.aliases)
        best_open = self._best(idx, scores, open_now)
        best_closed = self._best(idx, scores, ~open_now)

        conflict = (
            comparison.problem_conflict()
            if self.config.review_problem_conflict
            else np.zeros(len(idx), dtype=np.bool_)
        )
        band: Band = NEW
        held_back: str | None = None
        if best_open is not None:
            s = scores[best_open]
            band = MERGE if s >= model.merge_threshold else REVIEW if s >= model.review_threshold else NEW
            if band == MERGE and (
                conflict[best_open] or self._conflicts_with_primary(obs, found, conflict, best_open)
            ):
                band = REVIEW
                # A visible difference is the more telling reason; a conflict with the
                # primary alone (conflict[best_open] false) is one too.
                unsupported = conflict[best_open] and not comparison.problem_differs()[best_open]
                held_back = NO_SHARED_PROBLEM if unsupported else PROBLEM_DIFFERS
        recurrence_of = None
        if (
            best_closed is not None
            and band != MERGE
            and scores[best_closed] >= model.merge_threshold
            and not conflict[best_closed]
        ):
            recurrence_of = store.ticket_ids[idx[best_closed]]
        shown = best_open
        if best_open is None or (recurrence_of is not None and band == NEW):
            shown = best_closed  # only a closed ticket to show: the recurrence, or the nearest miss
        assert shown is not None  # idx is not empty, so one of the two exists
        row = int(idx[shown])
        contributions = self._contributions(comparison, shown)
        score = float(scores[shown])
        distance = float(comparison.distance_m[shown])
        explanation = explain(
            contributions,
            score,
            band,
            model.merge_threshold,
            model.review_threshold,
            distance_m=None if np.isnan(distance) else distance,
            gap_h=float(comparison.gap_ms[shown]) / 3_600_000,
            closed_ticket=store.ticket_ids[row] if shown != best_open else None,
            recurrence=recurrence_of is not None,
            held_back=held_back,
        )
        return Decision(
            band=band,
            ticket_id=store.ticket_ids[row] if shown == best_open else None,
            candidate_report_id=store.norms[row].report_id,  # type: ignore[union-attr]
            score=score,
            merge_threshold=model.merge_threshold,
            review_threshold=model.review_threshold,
            model_version=model.version,
            contributions=contributions,
            recurrence_of=recurrence_of,
            explanation=explanation,
            candidates_considered=len(idx),
            candidates_dropped=dropped,
            held_back=held_back,
        )

    def _conflicts_with_primary(
        self, obs: Observation, found: Candidates, conflict: np.ndarray, position: int
    ) -> bool:
        """Whether the report's problem differs from the primary's of the ticket matched through a member.

        A ticket's problem is the one its primary report named. A member is kept only
        because it matched the primary, but it may say less (an unclassified category, no
        object the lexicon knows), so a report of another problem can match the member and
        still conflict with the primary: merging it would chain two problems together.
        """
        if not self.config.review_problem_conflict:
            return False
        ticket = self._tickets[found.ticket_ids[position]]
        row = int(found.rows[position])
        if row == ticket.primary:
            return False
        hit = np.flatnonzero(found.rows == ticket.primary)
        if len(hit):
            return bool(conflict[hit[0]])
        norm = self.normalize(obs)
        idx = np.array([ticket.primary], dtype=np.int64)
        primary = compare(
            norm, self._hashed(norm), self._unclassified_h, self._store, idx, exclusive=self._exclusive
        )
        return bool(primary.problem_conflict()[0])

    def _empty(self, *, explanation: str) -> Decision:
        return Decision(
            band=NEW,
            ticket_id=None,
            candidate_report_id=None,
            score=0.0,
            merge_threshold=self.model.merge_threshold,
            review_threshold=self.model.review_threshold,
            model_version=self.model.version,
            contributions=(),
            recurrence_of=None,
            explanation=explanation,
            candidates_considered=0,
        )

    def _cap(self, idx: np.ndarray, open_now: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """Keep the newest ``max_candidates`` rows (report id breaks ties), whatever their row ids."""
        cap = self.config.max_candidates
        times = self._store.ints["time"][idx]
        cutoff = np.partition(times, len(times) - cap)[len(times) - cap]  # the cap-th newest time
        newer = np.flatnonzero(times > cutoff)
        tied = np.flatnonzero(times == cutoff)
        if len(newer) + len(tied) > cap:
            norms = self._store.norms
            tied = np.array(sorted(tied, key=lambda i: norms[idx[i]].report_id)[: cap - len(newer)])  # type: ignore[union-attr]
        chosen = np.sort(np.concatenate([newer, tied]).astype(np.int64))
        return idx[chosen], open_now[chosen], len(idx) - len(chosen)

    def _best(self, idx: np.ndarray, scores: np.ndarray, mask: np.ndarray) -> int | None:
        """Position of the highest score under ``mask``; ties → newest report, then smallest report id."""
        if not mask.any():
            return None
        masked = np.where(mask, scores, -np.inf)
        top = masked.max()
        tied = np.flatnonzero(masked == top)
        if len(tied) == 1:
            return int(tied[0])
        store = self._store
        return int(
            min(
                tied,
                key=lambda i: (-int(store.ints["time"][idx[i]]), store.norms[idx[i]].report_id),  # type: ignore[union-attr]
            )
        )

    def _contributions(self, comparison: Comparison, position: int) -> tuple[Contribution, ...]:
        levels = comparison.levels
        return tuple(row[int(levels[f][position])] for f, row in self._explained.items())

    # -- writing -------------------------------------------------------------------------------

    def _period_start(self) -> int:
        """Start of the expiry period the clock is in (a multiple of ``expire_every_s``)."""
        return self._clock - self._clock % self._expire_every_ms

    def _advance(self, time_ms: int) -> None:
        if time_ms > self._clock:
            self._clock = time_ms
        period = self._period_start()
        if period > self._expired_at:
            self.expire(period)

    def _add_row(self, ticket_id: str, ticket: _Ticket, norm: NormalizedReport) -> int:
        row = self._store.add(
            norm,
            self._hashed(norm),
            ticket_id=ticket_id,
            tslot=ticket.tslot,
            opened_ms=ticket.opened_at,
            last_ms=ticket.last_time,
            window_ms=self.config.window_ms(norm.family),
            closed_at=NEVER if ticket.closed_at is None else ticket.closed_at,
        )
        for key in self._own_keys(norm):
            self._keys.setdefault(key, {})[row] = None
        self._family_rows[norm.family] = self._family_rows.get(norm.family, 0) + 1
        self._count_alias(norm, 1)
        return row

    def _remove_row(self, row: int) -> None:
        self._decided = None  # its row numbers may name other reports from now on
        norm = self._store.norms[row]
        assert norm is not None
        for key in self._own_keys(norm):
            rows = self._keys.get(key)
            if rows is not None:
                rows.pop(row, None)
                if not rows:
                    del self._keys[key]
        self._family_rows[norm.family] -= 1
        self._count_alias(norm, -1)
        self._store.remove(row)

    def open_ticket(self, ticket_id: str, obs: Observation) -> None:
        """Record that ``obs`` opened ticket ``ticket_id`` (its primary report)."""
        if ticket_id in self._tickets:
            raise DedupError(f"ticket {ticket_id} is already in the index")
        norm = self.normalize(obs)
        ticket = _Ticket(self._next_tslot, norm.family, norm.time_ms)
        self._next_tslot += 1
        self._tickets[ticket_id] = ticket
        ticket.primary = self._add_row(ticket_id, ticket, norm)
        self._schedule(ticket_id, ticket)
        self._dirty[ticket_id] = None
        self._advance(norm.time_ms)

    def _strength(self, ticket: _Ticket, norm: NormalizedReport) -> float:
        """Score of ``norm`` against the ticket's primary report.

        Usually the decision that led to this merge has scored exactly that pair already:
        a score is a function of the two reports alone, so it is taken from there unless
        the primary was compared as an alias of the report's place (``compare`` without
        aliases scores it otherwise) or was not among the candidates.
        """
        decided = self._decided
        if decided is not None and decided[0] is norm:
            _, rows, scores, aliases = decided
            hit = np.flatnonzero(rows == ticket.primary)
            if len(hit) and (aliases is None or not aliases[hit[0]]):
                return float(scores[hit[0]])
        idx = np.array([ticket.primary], dtype=np.int64)
        comparison = compare(
            norm, self._hashed(norm), self._unclassified_h, self._store, idx, exclusive=self._exclusive
        )
        return float(comparison.score(self._tables)[0])

    def add_member(self, ticket_id: str, obs: Observation) -> None:
        """Record that ``obs`` was merged into ``ticket_id``; keep it for comparison if it is strong."""
        ticket = self._tickets.get(ticket_id)
        if ticket is None:
            raise UnknownTicketError(f"ticket {ticket_id} is not in the index (never opened or expired)")
        norm = self.normalize(obs)
        ticket.member_count += 1
        if norm.time_ms > ticket.last_time:
            ticket.last_time = norm.time_ms
            column = self._store.ints["last"]
            for row in self._rows(ticket):
                column[row] = ticket.last_time
            self._schedule(ticket_id, ticket)
        strength = self._strength(ticket, norm)
        self._keep_member(ticket_id, ticket, norm, strength)
        self._dirty[ticket_id] = None
        self._advance(norm.time_ms)

    def _keep_member(self, ticket_id: str, ticket: _Ticket, norm: NormalizedReport, strength: float) -> None:
        limit = self.config.max_members
        if limit == 0 or strength < self.model.merge_threshold:
            return
        candidate = (strength, norm.time_ms, norm.report_id)
        if len(ticket.members) >= limit:
            weakest = min(ticket.members, key=lambda m: (m[0], m[1], m[2]))
            if candidate <= weakest[:3]:
                return
            ticket.members.remove(weakest)
            self._remove_row(weakest[3])
        row = self._add_row(ticket_id, ticket, norm)
        ticket.members.append((*candidate, row))

    def close(self, ticket_id: str, at_ms: int) -> None:
        """Status feedback: the ticket was closed at ``at_ms``; it takes no merges from then on.

        It stays in the index for ``recurrence_window_days`` so that a new report of the
        same problem can be linked as a recurrence. Unknown ids are ignored (the ticket
        may have expired from the index already).
        """
        ticket = self._tickets.get(ticket_id)
        if ticket is None:
            return
        ticket.closed_at = int(at_ms)
        column = self._store.ints["closed_at"]
        for row in self._rows(ticket):
            column[row] = ticket.closed_at
        self._schedule(ticket_id, ticket)
        self._dirty[ticket_id] = None
        self._advance(int(at_ms))

    @staticmethod
    def _rows(ticket: _Ticket) -> list[int]:
        return [ticket.primary, *(m[3] for m in ticket.members)]

    def _drop(self, ticket_id: str) -> None:
        ticket = self._tickets.pop(ticket_id)
        for row in self._rows(ticket):
            self._remove_row(row)

    def expire(self, now_ms: int) -> int:
        """Drop tickets out of every window at event time ``now_ms``; returns how many were dropped.

        An open ticket goes when its newest kept report is older than its family's
        window; a closed one when its recurrence window has passed.
        """
        now_ms = int(now_ms)
        self._clock = max(self._clock, now_ms)
        self._expired_at = max(self._expired_at, now_ms)
        due: set[str] = set()
        heap = self._expiry
        while heap and heap[0][0] < now_ms:
            _, tslot, ticket_id = heapq.heappop(heap)
            ticket = self._tickets.get(ticket_id)
            # Skip entries of a ticket dropped or reloaded since (another tslot), or whose
            # deadline moved later (its newer entry is still in the heap).
            if ticket is not None and ticket.tslot == tslot and self._deadline(ticket) < now_ms:
                due.add(ticket_id)
        # In the order the tickets were opened (event time, then id): the changelog's record
        # order depends neither on how expiry finds them nor on the order a restore loaded them.
        tickets = self._tickets
        gone = sorted(due, key=lambda ticket_id: (tickets[ticket_id].opened_at, ticket_id))
        for ticket_id in gone:
            self._drop(ticket_id)
            self._dirty[ticket_id] = None
        return len(gone)

    def _deadline(self, ticket: _Ticket) -> int:
        """Event time after which ``ticket`` leaves the index (``expire`` drops it past this)."""
        if ticket.closed_at is not None:
            return ticket.closed_at + self._recurrence_ms
        return ticket.last_time + self.config.window_ms(ticket.family)

    def _schedule(self, ticket_id: str, ticket: _Ticket) -> None:
        heapq.heappush(self._expiry, (self._deadline(ticket), ticket.tslot, ticket_id))

    # -- persistence ---------------------------------------------------------------------------

    def _entry(self, ticket_id: str, ticket: _Ticket) -> TicketEntry:
        store = self._store
        members = sorted(ticket.members, key=lambda m: (-m[0], -m[1], m[2]))
        rows: list[tuple[NormalizedReport, float]] = [(store.norms[ticket.primary], float("inf"))]  # type: ignore[list-item]
        rows.extend((store.norms[m[3]], m[0]) for m in members)  # type: ignore[misc]
        return TicketEntry(
            ticket_id=ticket_id,
            family=ticket.family,
            opened_at=ticket.opened_at,
            closed_at=ticket.closed_at,
            member_count=ticket.member_count,
            rows=rows,
            last_time=ticket.last_time,
        )

    def entry_bytes(self, ticket_id: str) -> bytes | None:
        """The serialised entry of one ticket, or None when the index does not hold it."""
        ticket = self._tickets.get(ticket_id)
        return None if ticket is None else encode_entry(self._entry(ticket_id, ticket))

    def drain_changes(self) -> list[tuple[str, bytes | None]]:
        """Tickets touched since the last drain, with their entry (None when removed), in touch order."""
        out = [(ticket_id, self.entry_bytes(ticket_id)) for ticket_id in self._dirty]
        self._dirty.clear()
        return out

    def _load(self, entry: TicketEntry) -> None:
        if entry.ticket_id in self._tickets:
            self._drop(entry.ticket_id)
        if not entry.rows:
            raise IndexEntryError(f"dedup index entry of {entry.ticket_id} has no rows")
        ticket = _Ticket(self._next_tslot, entry.family, entry.opened_at)
        self._next_tslot += 1
        ticket.closed_at = entry.closed_at
        ticket.member_count = entry.member_count
        self._tickets[entry.ticket_id] = ticket
        (primary, _), *members = entry.rows
        ticket.last_time = max(
            entry.last_time if entry.last_time is not None else entry.opened_at,
            *(norm.time_ms for norm, _ in entry.rows),
        )
        ticket.primary = self._add_row(entry.ticket_id, ticket, primary)
        for norm, strength in members:
            row = self._add_row(entry.ticket_id, ticket, norm)
            ticket.members.append((strength, norm.time_ms, norm.report_id, row))
        self._schedule(entry.ticket_id, ticket)
        latest = max(ticket.last_time, entry.closed_at or ticket.last_time)
        self._clock = max(self._clock, latest)
        # The index this entry was written by had already expired at the start of the
        # clock's period (it does on entering a period), so loading must not expire again.
        self._expired_at = max(self._expired_at, self._period_start())

    def load_entry(self, ticket_id: str, data: bytes) -> None:
        """Apply one changelog value (restoring); replaces any entry of the same ticket."""
        entry = decode_entry(data)
        if entry.ticket_id != ticket_id:
            raise IndexEntryError(f"changelog key {ticket_id} holds the entry of {entry.ticket_id}")
        self._load(entry)

    def remove_entry(self, ticket_id: str) -> None:
        """Apply a changelog tombstone (restoring): forget the ticket if held."""
        if ticket_id in self._tickets:
            self._drop(ticket_id)

    def snapshot(self) -> bytes:
        """The whole index as bytes (versioned, compressed JSON)."""
        entries = [json.loads(encode_entry(self._entry(tid, t))) for tid, t in self._tickets.items()]
        body = {"clock": self._clock, "last_expire": self._expired_at, "tickets": entries}
        return _SNAPSHOT_MAGIC + zlib.compress(json.dumps(body, ensure_ascii=False).encode("utf-8"), 6)

    @classmethod
    def restore(cls, data: bytes, model: DedupModel, config: DedupConfig | None = None) -> TicketIndex:
        """An index that decides exactly like the one ``data`` was taken from."""
        if not data.startswith(_SNAPSHOT_MAGIC):
            raise IndexEntryError("not a dedup index snapshot (or a version this code cannot read)")
        try:
            body = json.loads(zlib.decompress(data[len(_SNAPSHOT_MAGIC) :]))
        except (zlib.error, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise IndexEntryError(f"corrupt dedup index snapshot: {exc}") from exc
        index = cls(model, config)
        for item in body["tickets"]:
            index._load(entry_from_dict(item))
        index._clock = int(body["clock"])
        index._expired_at = int(body["last_expire"])
        return index
