"""Stage 3 of VGG-Sound curation (4.3.3): per-class rules on speech / music / other scores reject clips.

A rule names the sounds a class rejects ("playing bass guitar" rejects speech but allows music;
"dog barking" rejects both); a clip is rejected when a rejected sound scores above the threshold
(0.5 in the thesis). The rules are a JSON file a curator edits:
{"threshold": 0.5, "default": {"reject": ["speech", "music"]}, "classes": {"playing violin": {"reject": ["speech"]}}}.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

SOUNDS = ("speech", "music", "other")
THRESHOLD = 0.5  # 4.3.3


@dataclass(frozen=True)
class Rule:
    """The sounds one class rejects."""

    reject: tuple[str, ...] = ("speech", "music")

    def __post_init__(self) -> None:
        unknown = set(self.reject) - set(SOUNDS)
        if unknown:
            raise ValueError(f"a rule rejects only {', '.join(SOUNDS)}; not {', '.join(sorted(unknown))}")

    def describe(self, label: str, threshold: float) -> str:
        return f"{label}: reject {' or '.join(self.reject) or 'nothing'} above {threshold}"


@dataclass(frozen=True)
class Rejection:
    """Why a clip was rejected: the sound, its score and the rule."""

    sound: str
    score: float
    rule: str


@dataclass(frozen=True)
class VerificationRules:
    """Rules for every class: one default, and the classes that differ from it."""

    threshold: float = THRESHOLD
    default: Rule = Rule()
    classes: dict[str, Rule] = field(default_factory=dict)

    def rule_for(self, label: str) -> Rule:
        """The rule of a class (the default when it has none of its own)."""
        return self.classes.get(label, self.default)

    def check(self, label: str, scores: dict[str, float]) -> list[Rejection]:
        """The rejections of one clip of class `label` with speech / music / other scores ([] = it passes)."""
        rule = self.rule_for(label)
        return [Rejection(sound, round(float(scores[sound]), 4), rule.describe(label, self.threshold))
                for sound in rule.reject if float(scores[sound]) > self.threshold]

    def to_dict(self) -> dict:
        """The JSON layout of the module docstring."""
        return {"threshold": self.threshold, "default": {"reject": list(self.default.reject)},
                "classes": {k: {"reject": list(v.reject)} for k, v in sorted(self.classes.items())}}

    @classmethod
    def from_dict(cls, data: dict) -> "VerificationRules":
        """Rules from their JSON layout; unknown keys are an error naming them."""
        unknown = set(data) - {"threshold", "default", "classes"}
        if unknown:
            raise ValueError(f"stage-3 rules: unknown key(s) {', '.join(sorted(unknown))}")
        default = Rule(tuple(data.get("default", {}).get("reject", ("speech", "music"))))
        classes = {label: Rule(tuple(rule.get("reject", ()))) for label, rule in data.get("classes", {}).items()}
        return cls(float(data.get("threshold", THRESHOLD)), default, classes)


def load_rules(path: str | Path | None) -> VerificationRules:
    """Rules from a JSON file; None gives the default (every class rejects speech and music at 0.5)."""
    if path is None:
        return VerificationRules()
    return VerificationRules.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def save_rules(rules: VerificationRules, path: str | Path) -> Path:
    """Write rules as JSON (what a page or a curator edits)."""
    path = Path(path)
    path.write_text(json.dumps(rules.to_dict(), indent=1), encoding="utf-8")
    return path
