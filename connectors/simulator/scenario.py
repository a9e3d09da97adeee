"""The scenario: which issues happen where and when, and who reports each through which channel.

Planning is separate from rendering: this module decides the truth (issues, their
places, report times, channels, callers, closures, near misses, malformed records)
with one ``random.Random``; ``render`` then writes each planned report in its
channel's native format. One random stream, consumed in a fixed order, and no wall
clock anywhere: the same seed gives byte-identical output.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.exceptions import ConfigError
from connectors.simulator.problems import CHANNELS, ChannelName, Phrasebook, ProblemType
from connectors.simulator.truth import Kind, NearMissType
from connectors.simulator.weighted import Weighted
from connectors.simulator.world import City, Place, random_room

#: Ordinary issues of one problem stay this far apart on a road while both are open.
_APART_METRES = 150.0
#: An issue counts as open from this long before its first report (it existed before anyone called).
_BEFORE = timedelta(hours=6)
_DAY = 86_400.0
#: A near-miss draw that landed on another open issue of its problem (re-drawn).
_CROWDED = object()
#: How often a place is re-drawn before a crowded spot is accepted anyway.
_PLACE_ATTEMPTS = 30

#: An issue stays open at least this many hours after its first report: the lifecycle a
#: department posts before CLOSED (``gateway.workload.lifecycle_to_close``, an hour a step)
#: must start after the ticket was opened.
_MIN_OPEN_HOURS = 4.0


class Proportions(BaseModel):
    """The shares and distributions of ``data/scenario.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reports_per_day: float = Field(gt=0)
    report_counts: dict[int, float]
    max_issue_span_hours: float = Field(gt=0)
    near_miss_share: float = Field(ge=0, le=1)
    near_miss_types: dict[NearMissType, float]
    nearby_metres: tuple[float, float]
    after_closure_hours: tuple[float, float]
    closed_share: float = Field(ge=0, le=1)
    unclosed_open_days: float = Field(gt=0)
    filing_only_share: float = Field(ge=0, le=1)
    category_noise: float = Field(ge=0, le=1)
    repeat_caller: float = Field(ge=0, le=1)
    same_caller_other_problem: float = Field(ge=0, le=1)
    old_order_ref: float = Field(ge=0, le=1)
    road_typo: float = Field(ge=0, le=1)
    chinese_numerals: float = Field(ge=0, le=1)
    full_width_digits: float = Field(ge=0, le=1)
    coordinates: dict[ChannelName, float]
    gps_noise_metres: float = Field(ge=0)
    emit_delay_minutes: dict[ChannelName, float]
    hour_weights: list[float] = Field(min_length=24, max_length=24)
    work_hours: tuple[int, int]
    urban_sources: dict[str, float]
    malformed_types: dict[ChannelName, dict[str, float]]


@cache
def load_proportions() -> Proportions:
    """``data/scenario.yaml``, validated."""
    path = resources.files("connectors.simulator").joinpath("data/scenario.yaml")
    try:
        return Proportions.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc


@dataclass(eq=False, slots=True)
class Caller:
    """A citizen: the same caller keeps the same number (repeat callers are a dedup signal)."""

    phone: str
    name: str | None
    secret: bool
    room: str | None


@dataclass(eq=False, slots=True)
class PlannedReport:
    """One report as planned: everything a renderer needs, and the truth."""

    seq: int
    channel: str
    at: datetime
    problem: ProblemType
    place: Place
    issue: PlannedIssue | None
    kind: Kind = Kind.SINGLE
    caller: Caller | None = None
    worker: str | None = None
    event_source: str | None = None
    urgent: bool = False
    filing_only: bool = False
    category_noise: bool = False
    old_order: PlannedReport | None = None
    opens_closed_ticket: bool = False
    malformed: str | None = None
    source_record_id: str = ""
    emitted_at: datetime | None = None


@dataclass(eq=False, slots=True)
class PlannedIssue:
    """One real-world issue and its reports (sorted by time)."""

    problem: ProblemType
    place: Place
    reports: list[PlannedReport] = field(default_factory=list)
    closed_at: datetime | None = None
    near_miss_of: PlannedIssue | None = None
    near_miss_type: NearMissType | None = None
    issue_id: str = ""

    @property
    def first(self) -> PlannedReport:
        return self.reports[0]

    @property
    def last(self) -> PlannedReport:
        return self.reports[-1]


class Planner:
    """Plans issues and reports until the requested number of records is reached."""

    def __init__(
        self,
        rng: random.Random,
        city: City,
        problems: tuple[ProblemType, ...],
        phrases: Phrasebook,
        props: Proportions,
        start: datetime,
        valid_reports: int,
    ) -> None:
        self.rng = rng
        self.city = city
        self.phrases = phrases
        self.props = props
        self.start = start
        self.days = max(1, math.ceil(valid_reports / props.reports_per_day))
        self.end = start + timedelta(days=self.days)
        self.problems = Weighted(list(problems), [p.weight for p in problems])
        self.by_setting = {s: [p for p in problems if p.setting == s] for s in ("street", "compound")}
        self.channel_choice = {p.key: Weighted(list(p.channels), list(p.channels.values())) for p in problems}
        self.by_channel = {
            c: Weighted(
                [p for p in problems if c in p.channels],
                [p.weight * p.channels[c] for p in problems if c in p.channels],
            )
            for c in CHANNELS
        }
        counts = sorted(props.report_counts)
        self.counts = Weighted(counts, [props.report_counts[c] for c in counts])
        kinds = list(props.near_miss_types)
        self.near_kinds = Weighted(kinds, [props.near_miss_types[k] for k in kinds])
        self.hours = Weighted(list(range(24)), props.hour_weights)
        self.sources = Weighted(list(props.urban_sources), list(props.urban_sources.values()))
        self.malformed_kinds = {
            c: Weighted(list(kinds_.keys()), list(kinds_.values()))
            for c, kinds_ in props.malformed_types.items()
        }
        self.issues: list[PlannedIssue] = []
        self.reports: list[PlannedReport] = []
        # Issues a near miss may imitate: only ordinary issues, so near misses never chain.
        self._base: list[PlannedIssue] = []
        self._street: list[PlannedIssue] = []
        self._compound: list[PlannedIssue] = []
        self._closed: list[PlannedIssue] = []
        # Open issues by (problem, road or building, day): [(metres along road, opened, closed)], epoch s.
        self._spots: dict[tuple[object, ...], list[tuple[float, float, float]]] = {}

    # -- the budget loop ------------------------------------------------------------------------

    def plan(self, valid: int, malformed: int) -> None:
        """Plan ``valid`` well-formed reports (grouped into issues) and ``malformed`` broken ones."""
        remaining = valid
        while remaining > 0:
            issue = None
            if self._base and self.rng.random() < self.props.near_miss_share:
                issue = self._near_miss(remaining)
            if issue is None:
                issue = self._ordinary(remaining)
            remaining -= len(issue.reports)
        channel_counts = [sum(1 for r in self.reports if r.channel == c) for c in CHANNELS]
        if malformed and not any(channel_counts):
            channel_counts = [1] * len(CHANNELS)
        channels = Weighted(list(CHANNELS), channel_counts)
        for _ in range(malformed):
            self._malformed(channels.pick(self.rng))

    # -- issues ---------------------------------------------------------------------------------

    def _ordinary(self, remaining: int) -> PlannedIssue:
        problem = self.problems.pick(self.rng)
        start = self._start_time()
        count = self._count(problem, remaining)
        closes = self.rng.random() < self.props.closed_share
        until = self._open_until(problem, start, closes)
        place = self._place(problem)
        for _ in range(_PLACE_ATTEMPTS):
            if self._free(problem, place, start, until):
                break
            place = self._place(problem)
        issue = PlannedIssue(problem, place)
        self._fill(issue, start, count, closes)
        self._claim(issue)
        self._base.append(issue)
        if place.compound is None:
            self._street.append(issue)
        elif len(place.compound.buildings) > 1:
            self._compound.append(issue)
        return issue

    def _near_miss(self, remaining: int) -> PlannedIssue | None:
        """A distinct issue built to look like an earlier one; None when no original fits.

        Re-drawn (up to ``_PLACE_ATTEMPTS`` times) when it would land on the spot of
        another open issue of its own problem, as ordinary issues are re-placed.
        """
        for _ in range(_PLACE_ATTEMPTS):
            issue = self._near_miss_once(remaining)
            if issue is not _CROWDED:
                return issue  # type: ignore[return-value]
        return None

    def _near_miss_once(self, remaining: int) -> PlannedIssue | object | None:
        """One draw of ``_near_miss``: the issue, None (no original fits) or ``_CROWDED``."""
        rng = self.rng
        kind = self.near_kinds.pick(rng)
        caller = None
        if kind is NearMissType.DIFFERENT_PROBLEM_SAME_ADDRESS:
            original = rng.choice(self._base)
            others = [p for p in self.by_setting[original.problem.setting] if p.key != original.problem.key]
            problem = rng.choice(others)
            room = (original.place.room or random_room(rng)) if problem.room else None
            place = replace(original.place, room=room)
            start = self._while_open(original)
            if rng.random() < self.props.same_caller_other_problem:
                caller = next((r.caller for r in original.reports if r.caller is not None), None)
        elif kind is NearMissType.SAME_PROBLEM_NEARBY:
            if not self._street:
                return None
            original = rng.choice(self._street)
            low, high = self.props.nearby_metres
            nearby = self.city.nearby_on_road(rng, original.place, low, high)
            if nearby is None:
                return None
            problem, place, start = original.problem, nearby, self._while_open(original)
        elif kind is NearMissType.SAME_PROBLEM_OTHER_BUILDING:
            if not self._compound:
                return None
            original = rng.choice(self._compound)
            compound = original.place.compound
            assert compound is not None  # _compound holds compound issues only
            building = rng.choice(
                [b for b in range(1, len(compound.buildings) + 1) if b != original.place.building]
            )
            room = random_room(rng) if original.problem.room else None
            problem, place = original.problem, self.city.in_compound(compound, building, room)
            start = self._while_open(original)
        else:
            if not self._closed:
                return None
            original = rng.choice(self._closed)
            assert original.closed_at is not None  # _closed holds closed issues only
            if original.closed_at >= self.end:
                return None
            low, high = self.props.after_closure_hours
            problem, place = original.problem, original.place
            start = original.closed_at + timedelta(hours=rng.uniform(low, high))
        issue = PlannedIssue(problem, place, near_miss_of=original, near_miss_type=kind)
        # Only an after-closure near miss may begin after the original closed.
        keep = kind is not NearMissType.AFTER_CLOSURE
        count = self._count(problem, remaining)
        closes = rng.random() < self.props.closed_share
        # A near miss differs from its original, but it must not land on the spot of
        # another open issue of its own problem (a leak in the flat where a leak is
        # already open): that is one real problem, and the truth would call the right
        # merge wrong. An after-closure near miss is checked from its own start, since
        # its original closed only hours before.
        margin = timedelta(0) if kind is NearMissType.AFTER_CLOSURE else _BEFORE
        if not self._free(problem, place, start, self._open_until(problem, start, closes), margin):
            return _CROWDED
        self._fill(issue, _whole_seconds(start), count, closes, first_caller=caller, keep_first_time=keep)
        self._claim(issue)
        return issue

    def _while_open(self, original: PlannedIssue) -> datetime:
        """A moment while ``original`` is open: from 6 h before its first report until it closes."""
        begin = original.first.at - timedelta(hours=6)
        end = original.closed_at or original.last.at + timedelta(hours=48)
        return begin + (end - begin) * self.rng.random()

    def _fill(
        self,
        issue: PlannedIssue,
        start: datetime,
        count: int,
        closes: bool,
        first_caller: Caller | None = None,
        keep_first_time: bool = False,
    ) -> None:
        """Plan the issue's reports, their kinds and callers, and when it closes (if ``closes``).

        With ``keep_first_time`` the first report happens at ``start`` exactly: outside
        working hours it is then a 12345 call, never a grid worker's report postponed
        to the next shift.
        """
        rng, problem = self.rng, issue.problem
        span = timedelta(hours=self.props.max_issue_span_hours)
        at = start
        for n in range(count):
            if n:
                gap = max(3.0, problem.gap_minutes * rng.lognormvariate(0.0, 1.0))
                at = min(at + timedelta(minutes=gap), start + span)
            channel = self.channel_choice[problem.key].pick(rng)
            if n == 0 and keep_first_time and channel in ("12319", "grid") and not self._working(at):
                channel = "12345"
            report = PlannedReport(
                len(self.reports), channel, _whole_seconds(at), problem, issue.place, issue
            )
            if channel == "12319":
                report.event_source = self.sources.pick(rng)
            if channel == "grid" or report.event_source == "监督员":
                report.at = self._work_hours(report.at)
            report.urgent = rng.random() < problem.urgent
            self.reports.append(report)
            issue.reports.append(report)
        issue.reports.sort(key=lambda r: (r.at, r.seq))
        first = Kind.NEAR_MISS if issue.near_miss_type else (Kind.SINGLE if count == 1 else Kind.ORIGINAL)
        for n, report in enumerate(issue.reports):
            report.kind = first if n == 0 else Kind.REPEAT
        self._people(issue, first_caller)
        first_report = issue.first
        first_report.filing_only = (
            count == 1
            and first_report.channel == "grid"
            and issue.near_miss_type is None
            and rng.random() < self.props.filing_only_share
        )
        if closes and not first_report.filing_only:
            low, high = problem.close_hours
            closed = issue.last.at + timedelta(hours=rng.uniform(low, high))
            earliest = first_report.at + timedelta(hours=_MIN_OPEN_HOURS)
            issue.closed_at = _whole_seconds(max(closed, earliest))
            # Its ticket id embeds the district: the record must name it for the id to match.
            first_report.opens_closed_ticket = True
            if issue.near_miss_type is None:
                self._closed.append(issue)
        for report in issue.reports:
            if report.channel == "12345" and not (report is first_report and issue.closed_at):
                report.category_noise = rng.random() < self.props.category_noise
        self.issues.append(issue)

    def _people(self, issue: PlannedIssue, first_caller: Caller | None) -> None:
        """Callers for citizen reports (some call again), worker ids for grid and 12319 inspectors."""
        rng = self.rng
        callers: list[Caller] = []
        last_order: dict[int, PlannedReport] = {}
        for report in issue.reports:
            street = report.place.road.street_code
            if report.channel == "grid":
                report.worker = f"W{street}{rng.randint(1, 3):02d}"
                continue
            if report.channel == "12319" and report.event_source != "公众举报":
                if report.event_source == "监督员":
                    report.worker = f"JD{street}{rng.randint(1, 3):02d}"
                continue
            if first_caller is not None and not callers:
                caller = first_caller
            elif callers and rng.random() < self.props.repeat_caller:
                caller = rng.choice(callers)
                previous = last_order.get(id(caller))
                if report.channel == "12345" and previous and rng.random() < self.props.old_order_ref:
                    report.old_order = previous
            else:
                caller = self._caller(report.place)
            if caller not in callers:
                callers.append(caller)
            report.caller = caller
            if report.channel == "12345":
                last_order[id(caller)] = report

    def _caller(self, place: Place) -> Caller:
        rng, phrases = self.rng, self.phrases
        if rng.random() < 0.05:
            phone = f"021{rng.choice('56')}{rng.randrange(10**7):07d}"
        else:
            phone = f"{rng.choice(phrases.mobile_prefixes)}{rng.randrange(10**8):08d}"
        roll = rng.random()
        if roll < 0.55:
            name: str | None = rng.choice(phrases.surnames) + rng.choice(phrases.name_suffixes)
        elif roll < 0.8:
            name = rng.choice(phrases.surnames) + rng.choice(phrases.given_names)
        else:
            name = None
        room = place.room or (random_room(rng) if place.compound else None)
        return Caller(phone, name, rng.random() < 0.05, room)

    def _malformed(self, channel: str) -> None:
        """A record broken on purpose: a plausible report first, corrupted when rendered."""
        rng = self.rng
        problem = self.by_channel[channel].pick(rng)
        place = self._place(problem)
        at = self.start + (self.end - self.start) * rng.random()
        report = PlannedReport(len(self.reports), channel, _whole_seconds(at), problem, place, None)
        report.kind = Kind.MALFORMED
        report.malformed = self.malformed_kinds[channel].pick(rng)
        if channel == "12319":
            report.event_source = self.sources.pick(rng)
        if channel == "grid" or report.event_source == "监督员":
            report.at = self._work_hours(report.at)
            report.worker = f"{'W' if channel == 'grid' else 'JD'}{place.road.street_code}01"
        if channel in ("12345", "962121") or report.event_source == "公众举报":
            report.caller = self._caller(place)
        self.reports.append(report)

    # -- keeping ordinary issues apart ----------------------------------------------------------

    def _spot(self, problem: ProblemType, place: Place) -> tuple[object, ...]:
        if place.compound is None:
            return (problem.key, place.road.index)
        return (problem.key, place.compound.index, place.building, place.room)

    def _open_until(self, problem: ProblemType, start: datetime, closes: bool) -> datetime:
        """The latest an issue starting at ``start`` can still be open (before its reports are planned)."""
        # A day more than planned: the first report may move to the next morning's shift.
        if not closes:
            return start + timedelta(days=self.props.unclosed_open_days + 1)
        return start + timedelta(hours=self.props.max_issue_span_hours + problem.close_hours[1] + 24)

    def _free(
        self,
        problem: ProblemType,
        place: Place,
        start: datetime,
        until: datetime,
        margin: timedelta = _BEFORE,
    ) -> bool:
        """No issue of this problem near ``place`` is open at any time from ``start`` to ``until``.

        Two unrelated open issues of one problem at one spot would be the same real
        problem: the truth would call a correct merge wrong. Ordinary issues therefore
        keep ``_APART_METRES`` (street) or their building (compound) apart while open;
        near misses differ from their original on purpose but are kept apart from
        every other open issue of their problem too. An issue that never closes counts
        as open for ``unclosed_open_days``, as its ticket would be.
        """
        spot, here = self._spot(problem, place), _position(place)
        begin, end = (start - margin).timestamp(), until.timestamp()
        for day in range(int(begin // _DAY), int(end // _DAY) + 1):
            for metre, opened, closed in self._spots.get((*spot, day), ()):
                near = place.compound is not None or abs(metre - here) < _APART_METRES
                if near and opened < end and closed > begin:
                    return False
        return True

    def _claim(self, issue: PlannedIssue) -> None:
        """Remember where an issue is and while it is open, in one bucket per day, for ``_free``."""
        first = issue.first
        if issue.closed_at is not None:
            until = issue.closed_at
        elif first.filing_only:
            until = first.at  # filed, never a ticket that could take a merge
        else:
            until = first.at + timedelta(days=self.props.unclosed_open_days)
        opened, closed = (first.at - _BEFORE).timestamp(), until.timestamp()
        entry = (_position(issue.place), opened, closed)
        spot = self._spot(issue.problem, issue.place)
        for day in range(int(opened // _DAY), int(closed // _DAY) + 1):
            self._spots.setdefault((*spot, day), []).append(entry)

    # -- helpers --------------------------------------------------------------------------------

    def _place(self, problem: ProblemType) -> Place:
        if problem.setting == "street":
            return self.city.street_place(self.rng)
        return self.city.compound_place(self.rng, room=problem.room)

    def _count(self, problem: ProblemType, remaining: int) -> int:
        if self.rng.random() >= problem.multi:
            return 1
        return min(self.counts.pick(self.rng), remaining)

    def _start_time(self) -> datetime:
        """A moment in the simulated span, busier by day than by night (``hour_weights``)."""
        day = self.rng.randrange(self.days)
        hour = self.hours.pick(self.rng)
        seconds = self.rng.randrange(3600)
        return self.start + timedelta(days=day, hours=hour, seconds=seconds)

    def _working(self, at: datetime) -> bool:
        open_, close = self.props.work_hours
        return open_ <= at.hour < close

    def _work_hours(self, at: datetime) -> datetime:
        """Grid workers and inspectors file only in working hours: later reports move to the next shift."""
        open_ = self.props.work_hours[0]
        if self._working(at):
            return at
        day = at if at.hour < open_ else at + timedelta(days=1)
        shift = day.replace(hour=open_, minute=0, second=0)
        return shift + timedelta(seconds=self.rng.randrange(5400))


def _position(place: Place) -> float:
    """Metres from the start of the place's road."""
    return place.road.fraction(place.number) * place.road.length_m


def _whole_seconds(at: datetime) -> datetime:
    return at.replace(microsecond=0)
