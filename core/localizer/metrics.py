"""cIoU and AUC as the public evaluation computes them (thesis 5.A, Senocak et al. 2018)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.localizer.heatmaps import min_max, upsample

EVAL_SIZE = 224
CONSENSUS = 2  # C: opinions needed for full agreement
SUCCESS_THRESHOLDS = np.array([0.05 * i for i in range(21)])

Box = Sequence[float]  # [x1, y1, x2, y2] normalised to [0, 1]


def box_mask(boxes: Sequence[Box], size: int = EVAL_SIZE) -> np.ndarray:
    """The union of one annotator's boxes as a (size, size) 0/1 float mask."""
    mask = np.zeros((size, size), dtype=np.float32)
    for x1, y1, x2, y2 in (box[:4] for box in boxes):
        mask[int(y1 * size):int(y2 * size), int(x1 * size):int(x2 * size)] = 1
    return mask


def consensus_mask(annotations: Sequence[Sequence[Box]], size: int = EVAL_SIZE,
                   consensus: int = CONSENSUS) -> np.ndarray:
    """g = min(sum_j b_j / C, 1) over annotators; one annotator's mask as it is."""
    masks = [box_mask(boxes, size) for boxes in annotations]
    if not masks:
        raise ValueError("no annotation to build a ground-truth mask from")
    if len(masks) == 1:
        return masks[0]
    return np.minimum(np.sum(masks, axis=0) / consensus, 1.0)


def binarised_prediction(heatmap: np.ndarray, threshold: float | None = None,
                         size: int = EVAL_SIZE) -> np.ndarray:
    """Heatmap upsampled to size and min-max normalised; 1 above its median as the public code
    (`pred[pred > thr] = 1; pred[pred < 1] = 0`, thr the (n/2)-th sorted value, so cells equal to
    thr stay 0 unless thr is the peak), or above `threshold` (thesis 5.A's tau) when one is given."""
    scaled = min_max(upsample(heatmap, size))
    if threshold is not None:
        return (scaled > threshold).astype(np.float32)
    median = np.sort(scaled.ravel())[scaled.size // 2]
    return ((scaled > median) | (scaled >= 1.0)).astype(np.float32)


def ciou(prediction: np.ndarray, truth: np.ndarray) -> float:
    """sum_{i in A} g_i / (sum_i g_i + |A - G|) for a binary prediction A and weighted truth g."""
    hit = float((prediction * truth).sum())
    false_alarm = float((prediction * (truth == 0)).sum())
    return hit / (float(truth.sum()) + false_alarm)


def clip_ciou(heatmap: np.ndarray, annotations: Sequence[Sequence[Box]],
              threshold: float | None = None) -> float:
    """cIoU of one clip's heatmap against its annotators' boxes (median binarisation by default)."""
    return ciou(binarised_prediction(heatmap, threshold), consensus_mask(annotations))


def success_curve(cious: Sequence[float]) -> np.ndarray:
    """Share of clips with cIoU >= 0.05 i, i = 0..20."""
    values = np.asarray(cious, dtype=np.float64)
    return np.array([(values >= t).mean() for t in SUCCESS_THRESHOLDS])


def success_auc(cious: Sequence[float]) -> float:
    """Trapezoid area under the success curve (as sklearn.metrics.auc)."""
    curve = success_curve(cious)
    return float(np.sum((curve[1:] + curve[:-1]) / 2 * np.diff(SUCCESS_THRESHOLDS)))


def summarise(cious: Sequence[float]) -> dict[str, float]:
    """{"ciou@0.5", "mean_ciou", "auc", "clips"} of a test set."""
    if len(cious) == 0:
        raise ValueError("no clip to evaluate")
    values = np.asarray(cious, dtype=np.float64)
    return {"ciou@0.5": float((values >= 0.5).mean()), "mean_ciou": float(values.mean()),
            "auc": success_auc(values), "clips": int(len(values))}
