"""Weights and thresholds: a versioned model file, loaded and validated once.

A model is data (JSON or YAML in ``dedup/models/``): a version string, the two
thresholds, and for each feature the weight in bits of each comparison level. The
score of a pair is the sum of its levels' weights; the prior odds of a duplicate are
folded into the thresholds, so the explanation line adds up exactly. ``bingxian
dedup fit`` writes the same format. Unknown features or levels are rejected so a
typo in a hand-edited file is an error at start.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from dedup.exceptions import ModelFileError
from dedup.features import FEATURES, LEVELS, MISSING

DEFAULT_MODEL = "default.json"


class DedupModel:
    """Weights (bits per feature level) and the MERGE / REVIEW thresholds, with a version."""

    __slots__ = ("_tables", "merge_threshold", "meta", "review_threshold", "version", "weights")

    def __init__(
        self,
        *,
        version: str,
        weights: Mapping[str, Mapping[str, float]],
        merge_threshold: float,
        review_threshold: float,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        if not version:
            raise ModelFileError("model has no version")
        if review_threshold > merge_threshold:
            raise ModelFileError(
                f"review threshold {review_threshold} is above merge threshold {merge_threshold}"
            )
        self.version = version
        self.merge_threshold = float(merge_threshold)
        self.review_threshold = float(review_threshold)
        self.meta: dict[str, Any] = dict(meta or {})
        self.weights: dict[str, dict[str, float]] = {}
        for feature, levels in weights.items():
            if feature not in LEVELS:
                raise ModelFileError(f"unknown feature {feature!r}; known: {', '.join(FEATURES)}")
            table: dict[str, float] = {}
            for level, weight in levels.items():
                if level not in LEVELS[feature]:
                    raise ModelFileError(
                        f"unknown level {feature}.{level}; known: {', '.join(LEVELS[feature])}"
                    )
                if level == MISSING:
                    if weight != 0:
                        raise ModelFileError(f"{feature}.missing must be 0: a missing field is no evidence")
                    continue
                if not isinstance(weight, int | float) or not math.isfinite(weight):
                    raise ModelFileError(f"{feature}.{level}: weight must be a finite number, got {weight!r}")
                table[level] = float(weight)
            self.weights[feature] = table
        # One array per feature, indexed by level; index 0 (missing) is 0.
        self._tables: dict[str, np.ndarray] = {
            feature: np.array([self.weight(feature, level) for level in LEVELS[feature]], dtype=np.float64)
            for feature in FEATURES
        }

    def weight(self, feature: str, level: str) -> float:
        """Bits for ``level`` of ``feature`` (0 for missing and for levels the file leaves out)."""
        return self.weights.get(feature, {}).get(level, 0.0)

    def table(self, feature: str) -> np.ndarray:
        """Weights of ``feature`` indexed by level number."""
        return self._tables[feature]

    def to_dict(self) -> dict[str, Any]:
        """The model file's content."""
        return {
            "version": self.version,
            "thresholds": {"merge": self.merge_threshold, "review": self.review_threshold},
            "features": {f: {lv: round(w, 4) for lv, w in self.weights.get(f, {}).items()} for f in FEATURES},
            "meta": self.meta,
        }

    def dump(self, path: Path) -> None:
        """Write the model as JSON (or YAML when the name ends in .yaml/.yml)."""
        data = self.to_dict()
        if path.suffix in {".yaml", ".yml"}:
            text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        else:
            text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        path.write_text(text, encoding="utf-8")

    @classmethod
    def from_dict(cls, data: Any, source: str = "model") -> DedupModel:
        """Validate and build a model from a parsed model file."""
        if not isinstance(data, dict):
            raise ModelFileError(f"{source}: expected a mapping at the top level")
        unknown = set(data) - {"version", "thresholds", "features", "meta"}
        if unknown:
            raise ModelFileError(f"{source}: unknown keys {sorted(unknown)}")
        try:
            thresholds = data["thresholds"]
            return cls(
                version=str(data["version"]),
                weights=data.get("features") or {},
                merge_threshold=float(thresholds["merge"]),
                review_threshold=float(thresholds["review"]),
                meta=data.get("meta") or {},
            )
        except KeyError as exc:
            raise ModelFileError(f"{source}: missing key {exc}") from exc
        except (TypeError, ValueError, AttributeError) as exc:
            raise ModelFileError(f"{source}: {exc}") from exc
        except ModelFileError as exc:
            raise ModelFileError(f"{source}: {exc}") from exc


def load_model(path: Path | str | None = None) -> DedupModel:
    """Load a model file (JSON or YAML); the shipped default model when ``path`` is None."""
    if path is None:
        source = f"dedup/models/{DEFAULT_MODEL}"
        text = resources.files("dedup").joinpath("models", DEFAULT_MODEL).read_text(encoding="utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ModelFileError(f"{source}: cannot read: {exc.strerror}") from exc
    try:
        data = json.loads(text) if source.endswith(".json") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ModelFileError(f"{source}: not valid JSON/YAML: {exc}") from exc
    return DedupModel.from_dict(data, source)
