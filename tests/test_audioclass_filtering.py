"""Stage 4's pure parts (4.3.4): the two-fold plan, the ensemble and top-3 keep rule, retrieval, duplicates."""

from __future__ import annotations

import numpy as np

from core.audioclass.filtering import (ensemble, keep_top_k, label_ranks, near_duplicates, retrieve,
                                       two_fold_plan)


def test_no_clip_is_predicted_by_a_model_that_saw_it_and_each_gets_two_predictions():
    labels = ["a"] * 7 + ["b"] * 10 + ["c"] * 1 + ["d"] * 4
    plan = two_fold_plan(labels, repetitions=2, seed=3)
    assert len(plan) == 4
    predicted_by = {i: [] for i in range(len(labels))}
    for fold in plan:
        assert not set(fold.train) & set(fold.predict)  # never predicts what it trained on
        assert sorted([*fold.train, *fold.predict]) == list(range(len(labels)))  # the halves cover every clip
        for i in fold.predict:
            predicted_by[i].append(fold)
    for i, folds in predicted_by.items():
        assert len(folds) == 2 and {f.repetition for f in folds} == {0, 1}
        assert all(i not in set(f.train) for f in folds)
    for fold in plan:  # per class, the halves differ by at most one clip
        for label in "abd":
            members = [i for i, x in enumerate(labels) if x == label]
            mine = len(set(members) & set(fold.train))
            assert abs(mine - (len(members) - mine)) <= 1
    assert [f.train.tolist() for f in plan] != [f.train.tolist() for f in two_fold_plan(labels, 2, seed=4)]


def test_ensemble_means_each_clips_predictions():
    probs, count = ensemble(3, [(np.array([0, 2]), np.array([[0.2, 0.8], [1.0, 0.0]])),
                                (np.array([0, 1]), np.array([[0.6, 0.4], [0.3, 0.7]]))])
    assert np.allclose(probs, [[0.4, 0.6], [0.3, 0.7], [1.0, 0.0]]) and count.tolist() == [2, 1, 1]


def test_top3_keep_rule():
    probs = np.array([[0.30, 0.25, 0.20, 0.15, 0.10],   # label 2 is third: kept
                      [0.30, 0.25, 0.20, 0.15, 0.10],   # label 3 is fourth: rejected
                      [0.10, 0.10, 0.10, 0.60, 0.10],   # label 0 ties with 1, 2, 4 below the top: rank 2 -> kept
                      [0.05, 0.05, 0.05, 0.05, 0.80]])  # label 4 on top
    targets = np.array([2, 3, 0, 4])
    assert label_ranks(probs, targets).tolist() == [3, 4, 2, 1]
    assert keep_top_k(probs, targets, 3).tolist() == [True, False, True, True]
    assert keep_top_k(probs, targets, 1).tolist() == [False, False, False, True]


def test_retrieval_brings_back_rejected_clips_that_look_like_kept_clips_of_their_label():
    features = np.array([[1, 0], [0.99, 0.1], [0.98, 0.05], [0, 1], [0.1, 0.99],  # kept: a a a b b
                         [0.97, 0.08], [0.97, 0.08], [0.05, 1.0]])  # rejected: labelled a, b, a
    labels = ["a", "a", "a", "b", "b", "a", "b", "a"]
    kept = np.array([1, 1, 1, 1, 1, 0, 0, 0], dtype=bool)
    recovered, votes = retrieve(features, labels, kept, ~kept, neighbours=3, min_votes=2)
    assert votes[5:].tolist() == [3, 0, 1]  # looks like a's: labelled a -> back; labelled b -> not
    assert recovered.tolist() == [False] * 5 + [True, False, False]


def test_near_duplicates_within_a_class_keep_the_first():
    features = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [1, 0.001, 0], [1, 0, 0]])
    labels = ["a", "a", "a", "a", "b"]
    kept = np.array([True, True, True, True, True])
    duplicate_of, similarity = near_duplicates(features, labels, kept, threshold=0.995)
    assert duplicate_of.tolist() == [-1, 0, -1, 0, -1]  # the b clip is another class: not a duplicate
    assert similarity[1] == 1.0


def test_curation_report_tables_histograms_and_doubtful_clips():
    from core.audioclass.curation_report import class_table, label_probability_histogram, least_sure

    def clip(key, label, kept, decided_by, rank, prob, tops):
        return {"key": key, "label": label, "kept": kept, "decided_by": decided_by,
                "twofold": {"label_rank": rank, "label_probability": prob,
                            "predictions": [{"top": [[c, 0.3] for c in top]} for top in tops]}}

    decisions = {"clips": [
        clip("k1", "a", True, "easy", 1, 0.9, ["abc", "abc"]),
        clip("k2", "a", False, "rejected", 4, 0.05, ["bcd", "bca"]),  # the models disagree: most doubtful
        clip("k3", "b", True, "easy", 3, 0.2, ["acb", "acb"]),  # rank 3: next to the rule's edge
        {"key": "k4", "label": "b", "kept": False, "decided_by": "stage3", "stage3": {"rejected": True}}]}
    table = class_table(decisions)
    assert table[0] == {"class": "a", "clips": 2, "kept": 1, "stage3": 0, "easy": 1, "hard": 0, "final": 0,
                        "duplicate": 0, "rejected": 1}
    assert table[1]["stage3"] == 1
    histogram = label_probability_histogram(decisions, bins=2)
    assert histogram == {"edges": [0.0, 0.5, 1.0], "kept": [1, 1], "removed": [1, 0]}
    assert [c["key"] for c in least_sure(decisions)] == ["k2", "k3"]
