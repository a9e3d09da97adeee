"""The problem's object and symptom, found through a synonym dictionary kept as data.

Character scorers cannot tell 下水道堵了 from 窨井反水 (same issue, 27 % alike) nor 路灯不亮
from 井盖破损 written with the same stock phrases (71 % alike). Mapping every synonym to
one canonical term makes "same object, same symptom" a cheap, reliable comparison.

The dictionary is ``dedup/data/lexicon.yaml`` plus any files named in
``DedupConfig.lexicon_files``; later files add synonyms and new terms. Each class is
limited to 64 canonical terms so that a report's terms fit one 64-bit mask, which the
index compares for a thousand candidates at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from dedup.exceptions import LexiconError

MAX_TERMS = 64
_CLASSES = ("objects", "symptoms")


def _read_yaml(source: Path | str, text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise LexiconError(f"{source}: not valid YAML: {exc}") from exc


def _strings(source: Path | str, data: dict[str, Any], key: str) -> list[str]:
    """The list of non-empty strings under ``key`` (none when absent); any other shape names the file."""
    values = data.get(key) or []
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise LexiconError(f"{source}: {key} must be a list of strings")
    return values


def builtin_text(name: str) -> str:
    """The text of a data file shipped in ``dedup/data``."""
    return resources.files("dedup").joinpath("data", name).read_text(encoding="utf-8")


class TermClass:
    """One class of terms (objects or symptoms): longest-first matching to canonical terms."""

    __slots__ = ("_pattern", "bits", "canonical", "synonyms")

    def __init__(self, synonyms: Mapping[str, Iterable[str]]) -> None:
        self.synonyms: dict[str, str] = {}
        self.canonical: tuple[str, ...] = tuple(synonyms)
        if len(self.canonical) > MAX_TERMS:
            raise LexiconError(f"{len(self.canonical)} canonical terms in one class; at most {MAX_TERMS}")
        self.bits: dict[str, int] = {term: 1 << i for i, term in enumerate(self.canonical)}
        for term, words in synonyms.items():
            for word in (term, *words):
                self.synonyms[word] = term
        alternatives = sorted(self.synonyms, key=lambda w: (-len(w), w))
        self._pattern = re.compile("|".join(map(re.escape, alternatives))) if alternatives else None

    def find(self, text: str) -> tuple[str, ...]:
        """Canonical terms named in ``text``, sorted, each once."""
        if self._pattern is None:
            return ()
        return tuple(sorted({self.synonyms[m.group(0)] for m in self._pattern.finditer(text)}))

    def mask(self, terms: Iterable[str]) -> int:
        """The 64-bit mask of known canonical terms (unknown ones are ignored)."""
        out = 0
        for term in terms:
            out |= self.bits.get(term, 0)
        return out


class Lexicon:
    """Objects, symptoms, exclusive symptom pairs, stock phrases and broad titles, built once per index."""

    __slots__ = (
        "broad_titles",
        "exclusive",
        "exclusive_masks",
        "exclusive_terms",
        "objects",
        "stock_phrases",
        "symptoms",
    )

    def __init__(
        self,
        objects: Mapping[str, Iterable[str]],
        symptoms: Mapping[str, Iterable[str]],
        stock_phrases: Iterable[str],
        exclusive: Iterable[tuple[str, str]] = (),
        broad_titles: Iterable[str] = (),
    ) -> None:
        self.objects = TermClass(objects)
        self.symptoms = TermClass(symptoms)
        self.stock_phrases: tuple[str, ...] = tuple(sorted(set(stock_phrases), key=lambda p: (-len(p), p)))
        #: Symptom pairs one object cannot show at once (a cover missing is not a cover broken).
        self.exclusive: tuple[tuple[str, str], ...] = tuple(
            sorted({tuple(sorted(pair)) for pair in exclusive})
        )
        for pair in self.exclusive:
            unknown = [term for term in pair if term not in self.symptoms.bits]
            if unknown:
                raise LexiconError(f"exclusive: {unknown} are not canonical symptoms")
        self.exclusive_masks: tuple[tuple[int, int], ...] = tuple(
            (self.symptoms.bits[a], self.symptoms.bits[b]) for a, b in self.exclusive
        )
        self.exclusive_terms = frozenset(term for pair in self.exclusive for term in pair)
        #: Titles naming a category several problems are filed under, not a problem (see lexicon.yaml).
        self.broad_titles = frozenset(broad_titles)

    @classmethod
    def load(cls, extra_files: Iterable[Path] = ()) -> Lexicon:
        """The shipped dictionary, extended by ``extra_files`` (same YAML layout)."""
        merged: dict[str, dict[str, list[str]]] = {name: {} for name in _CLASSES}
        phrases: list[str] = []
        broad_titles: list[str] = []
        exclusive: list[tuple[str, str]] = []
        sources: list[tuple[str, str]] = [
            ("dedup/data/lexicon.yaml", builtin_text("lexicon.yaml")),
            ("dedup/data/stock_phrases.yaml", builtin_text("stock_phrases.yaml")),
        ]
        for path in extra_files:
            try:
                sources.append((str(path), Path(path).read_text(encoding="utf-8")))
            except OSError as exc:
                raise LexiconError(f"{path}: cannot read: {exc.strerror}") from exc
        for source, text in sources:
            data = _read_yaml(source, text) or {}
            if not isinstance(data, dict):
                raise LexiconError(f"{source}: expected a mapping at the top level")
            unknown = set(data) - {*_CLASSES, "phrases", "broad_titles", "exclusive"}
            if unknown:
                raise LexiconError(f"{source}: unknown keys {sorted(unknown)}")
            for name in _CLASSES:
                section = data.get(name) or {}
                if not isinstance(section, dict):
                    raise LexiconError(f"{source}: {name} must map a term to a list of synonyms")
                for term, words in section.items():
                    if not isinstance(words, list | type(None)) or not all(
                        isinstance(w, str) and w for w in words or ()
                    ):
                        raise LexiconError(f"{source}: {name}.{term}: synonyms must be a list of strings")
                    merged[name].setdefault(str(term), []).extend(words or ())
            phrases.extend(_strings(source, data, "phrases"))
            broad_titles.extend(_strings(source, data, "broad_titles"))
            pairs = data.get("exclusive") or []
            if not isinstance(pairs, list) or not all(
                isinstance(pair, list) and len(pair) == 2 and all(isinstance(t, str) and t for t in pair)
                for pair in pairs
            ):
                raise LexiconError(f"{source}: exclusive must be a list of [symptom, symptom] pairs")
            exclusive.extend((a, b) for a, b in pairs)
        return cls(merged["objects"], merged["symptoms"], phrases, exclusive, broad_titles)
