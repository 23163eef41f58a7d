"""Stage-3 rules (4.3.3): per-class rejected sounds over speech / music / other scores at threshold 0.5."""

from __future__ import annotations

import pytest

from core.audioclass.verification import Rule, VerificationRules, load_rules, save_rules


def test_a_class_may_allow_music_but_not_speech_and_another_neither():
    rules = VerificationRules(classes={"playing bass guitar": Rule(("speech",))})
    music = {"speech": 0.1, "music": 0.8, "other": 0.1}
    speech = {"speech": 0.7, "music": 0.2, "other": 0.1}
    assert rules.check("playing bass guitar", music) == []
    assert [r.sound for r in rules.check("playing bass guitar", speech)] == ["speech"]
    rejected = rules.check("dog barking", music)  # the default: speech and music rejected
    assert [(r.sound, r.score) for r in rejected] == [("music", 0.8)]
    assert rejected[0].rule == "dog barking: reject speech or music above 0.5"


def test_the_threshold_is_strict_and_editable():
    scores = {"speech": 0.5, "music": 0.0, "other": 0.5}
    assert VerificationRules().check("dog barking", scores) == []  # 0.5 is not above 0.5
    assert len(VerificationRules(threshold=0.4).check("dog barking", scores)) == 1


def test_rules_round_trip_as_json_and_refuse_unknown_sounds(tmp_path):
    rules = VerificationRules(0.6, Rule(("speech",)), {"playing violin": Rule(()), "cat meowing": Rule(("music",))})
    assert load_rules(save_rules(rules, tmp_path / "rules.json")) == rules
    assert load_rules(None) == VerificationRules()
    with pytest.raises(ValueError, match="laughter"):
        Rule(("laughter",))
    with pytest.raises(ValueError, match="unknown key"):
        VerificationRules.from_dict({"treshold": 0.5})
