"""Distance-estimation metrics, with the bins of issue 5 (and the depth-estimation classics).

- ``abs_error_by_distance``: mean |predicted - true| in metres per true-distance bin
  "0-10", "10-20", "20-30", "30-100", "100+" (bins are [lo, hi), the last open-ended).
- ``abs_error_by_occlusion``: the same per occlusion-ratio bin "0-0.3", "0.3-0.5", "0.5-0.75",
  "0.75-1" ([lo, hi), the last closed at 1).
- ``delta1``: fraction with max(pred/true, true/pred) < 1.25.
- ``abs_rel``: mean |pred - true| / true.
- ``rmse``: sqrt(mean (pred - true)^2), metres.

An empty bin is ``None`` (JSON null), never 0: no data is not a perfect score.
"""

from __future__ import annotations

import numpy as np

DISTANCE_BINS: dict[str, tuple[float, float]] = {
    "0-10": (0.0, 10.0),
    "10-20": (10.0, 20.0),
    "20-30": (20.0, 30.0),
    "30-100": (30.0, 100.0),
    "100+": (100.0, np.inf),
}
OCCLUSION_BINS: dict[str, tuple[float, float]] = {
    "0-0.3": (0.0, 0.3),
    "0.3-0.5": (0.3, 0.5),
    "0.5-0.75": (0.5, 0.75),
    "0.75-1": (0.75, 1.0),
}


def bin_masks(values: np.ndarray, bins: dict[str, tuple[float, float]]) -> dict[str, np.ndarray]:
    """One boolean mask per bin; [lo, hi), except that a finite last upper edge is inclusive."""
    values = np.asarray(values, float)
    last = list(bins)[-1]
    out = {}
    for name, (lo, hi) in bins.items():
        upper = values <= hi if (name == last and np.isfinite(hi)) else values < hi
        out[name] = (values >= lo) & upper
    return out


def binned_mean(
    values: np.ndarray, keys: np.ndarray, bins: dict[str, tuple[float, float]]
) -> dict[str, float | None]:
    """Mean of ``values`` per bin of ``keys``; None for an empty bin."""
    values = np.asarray(values, float)
    return {
        name: (float(values[m].mean()) if m.any() else None)
        for name, m in bin_masks(keys, bins).items()
    }


def distance_metrics(
    predicted: np.ndarray, true: np.ndarray, occlusion: np.ndarray | None = None
) -> dict:
    """The metrics above. Predictions must be finite and positive, true distances positive;
    ``occlusion`` (ratios in [0, 1]) may be None, then every occlusion bin is None."""
    pred = np.asarray(predicted, float).reshape(-1)
    true = np.asarray(true, float).reshape(-1)
    if pred.shape != true.shape:
        raise ValueError(f"{pred.size} predictions for {true.size} true distances")
    if pred.size == 0:
        raise ValueError("no distances to score")
    if not (np.isfinite(pred).all() and (pred > 0).all()):
        raise ValueError("predicted distances must be finite and positive")
    if not (np.isfinite(true).all() and (true > 0).all()):
        raise ValueError("true distances must be finite and positive")
    err = np.abs(pred - true)
    if occlusion is None:
        by_occ: dict[str, float | None] = dict.fromkeys(OCCLUSION_BINS)
    else:
        occ = np.asarray(occlusion, float).reshape(-1)
        if occ.shape != true.shape:
            raise ValueError(f"{occ.size} occlusion ratios for {true.size} distances")
        if not (np.isfinite(occ).all() and (occ >= 0).all() and (occ <= 1).all()):
            raise ValueError("occlusion ratios must lie in [0, 1]")
        by_occ = binned_mean(err, occ, OCCLUSION_BINS)
    ratio = np.maximum(pred / true, true / pred)
    return {
        "abs_error_by_distance": binned_mean(err, true, DISTANCE_BINS),
        "abs_error_by_occlusion": by_occ,
        "delta1": float((ratio < 1.25).mean()),
        "abs_rel": float((err / true).mean()),
        "rmse": float(np.sqrt((err**2).mean())),
    }
