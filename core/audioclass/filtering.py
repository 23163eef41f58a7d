"""Stage 4 of VGG-Sound curation (4.3.4) as pure functions: the two-fold plan, the ensemble and its
top-k keep rule, hard positives by retrieval, and near-duplicates by features."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FoldModel:
    """One classifier of the two-fold filter: the clips it trains on and the clips it predicts."""

    repetition: int
    half: int  # which half it trains on
    train: np.ndarray  # clip indices
    predict: np.ndarray  # clip indices, disjoint from train

    @property
    def name(self) -> str:
        return f"r{self.repetition}h{self.half}"


def two_fold_plan(labels: list[str], repetitions: int = 2, seed: int = 0) -> list[FoldModel]:
    """Per class, the clips split at random into two halves, a model trained on each half predicting the
    other; `repetitions` times with fresh splits, so every clip gets `repetitions` predictions (4.3.4: twice)."""
    rng = np.random.default_rng(seed)
    labels_arr = np.asarray(labels)
    plan = []
    for repetition in range(repetitions):
        halves: list[list[int]] = [[], []]
        for label in sorted(set(labels)):
            members = rng.permutation(np.flatnonzero(labels_arr == label))
            first = (len(members) + int(rng.integers(0, 2))) // 2  # odd classes: the extra clip on either side
            halves[0] += members[:first].tolist()
            halves[1] += members[first:].tolist()
        a, b = (np.array(sorted(h), dtype=np.int64) for h in halves)
        plan += [FoldModel(repetition, 0, a, b), FoldModel(repetition, 1, b, a)]
    return plan


def ensemble(n: int, predictions: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """(mean probabilities (n, C), predictions per clip (n,)) of (clip indices, (m, C) probabilities) pairs."""
    classes = predictions[0][1].shape[1]
    total, count = np.zeros((n, classes)), np.zeros(n, dtype=np.int64)
    for index, probs in predictions:
        total[index] += probs
        count[index] += 1
    return total / np.maximum(count, 1)[:, None], count


def label_ranks(probs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """1-based rank of each clip's label among its class scores (ties broken by class order)."""
    order = np.argsort(-probs, axis=1, kind="mergesort")
    return np.argmax(order == np.asarray(targets)[:, None], axis=1) + 1


def keep_top_k(probs: np.ndarray, targets: np.ndarray, k: int = 3) -> np.ndarray:
    """The keep rule of 4.3.4: True where the clip's label is among its k highest ensembled scores."""
    return label_ranks(probs, targets) <= k


def unit_rows(features: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero)."""
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.where(norms > 0, norms, 1.0)


def retrieve(features: np.ndarray, labels: list[str], kept: np.ndarray, candidates: np.ndarray,
             neighbours: int = 5, min_votes: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """(recovered mask, votes): a candidate comes back when at least `min_votes` of its `neighbours` most
    similar kept clips (cosine of features) carry its label (4.3.4's retrieval of hard positives)."""
    votes = np.zeros(len(labels), dtype=np.int64)
    kept_index = np.flatnonzero(kept)
    if not len(kept_index):
        return np.zeros(len(labels), dtype=bool), votes
    unit = unit_rows(np.asarray(features, dtype=np.float64))
    labels_arr = np.asarray(labels)
    for i in np.flatnonzero(candidates):
        similarity = unit[kept_index] @ unit[i]
        nearest = kept_index[np.argsort(-similarity, kind="mergesort")[:neighbours]]
        votes[i] = int(np.sum(labels_arr[nearest] == labels_arr[i]))
    return candidates & (votes >= min_votes), votes


def near_duplicates(features: np.ndarray, labels: list[str], kept: np.ndarray,
                    threshold: float = 0.995) -> tuple[np.ndarray, np.ndarray]:
    """(duplicate_of index or -1, similarity): a kept clip whose features match an earlier kept clip of its
    class at cosine >= threshold is the same upload (4.3.4: same visual representation); the first stays."""
    unit = unit_rows(np.asarray(features, dtype=np.float64))
    labels_arr = np.asarray(labels)
    duplicate_of = np.full(len(labels), -1, dtype=np.int64)
    similarity = np.zeros(len(labels))
    for label in sorted(set(labels_arr[kept])):
        members = np.flatnonzero(kept & (labels_arr == label))
        originals: list[int] = []
        for i in members:
            if originals:
                sims = unit[originals] @ unit[i]
                best = int(np.argmax(sims))
                similarity[i] = sims[best]
                if sims[best] >= threshold:
                    duplicate_of[i] = originals[best]
                    continue
            originals.append(int(i))
    return duplicate_of, similarity
