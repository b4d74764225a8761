"""Offline training of TrackFlow from MOTChallenge ground truth (see :mod:`.data` for what a
sample is and how ground truth is made to look like a detector).

Seeded and deterministic on a given machine: numpy and torch are seeded, the validation
trajectories are drawn from the seed, and torch runs on a fixed number of threads. After
training, the logistic NLL-to-cost calibration is fitted on the validation trajectories
(scikit-learn), and the best-validation weights are saved with the config and this record.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from tqdm import tqdm

from trackflow_ros.association.checkpoint import save_checkpoint
from trackflow_ros.association.data import Augmentation, Samples, make_samples, wrong_pairs
from trackflow_ros.association.features import (
    GATE_LOG_RATIO,
    GATE_SHIFT,
    box_displacement,
    gate,
)
from trackflow_ros.association.model import FlowConfig, TrackFlowModel
from trackflow_ros.association.scorer import FlowScorer

#: epochs of the shipped checkpoint and the leave-one-out models (validation NLL has flattened
#: by then: the shipped and leave-one-out models gain 0.003-0.02 nat over their last two)
DEFAULT_EPOCHS = 10


def _tensors(s: Samples) -> list[torch.Tensor]:
    return [
        torch.as_tensor(s.history, dtype=torch.float32),
        torch.as_tensor(s.mask),
        torch.as_tensor(s.track, dtype=torch.float32),
        torch.as_tensor(s.x, dtype=torch.float32),
    ]


def _mean_nll(model: TrackFlowModel, tensors: list[torch.Tensor], batch: int = 4096) -> float:
    model.eval()
    total = 0.0
    with torch.inference_mode():
        for i in range(0, len(tensors[0]), batch):
            h, m, t, x = (v[i : i + batch] for v in tensors)
            scene = torch.zeros(len(h), dtype=torch.long)
            total += -model.log_prob(x, model.context(h, m, t, scene)).sum().item()
    return total / max(len(tensors[0]), 1)


def calibrate(model: TrackFlowModel, samples: Samples, seed: int) -> dict[str, float]:
    """Fit ``P(match | nll)`` on true pairs vs the gated wrong pairs of the same frames."""
    scorer = FlowScorer(model, {"slope": -1.0, "intercept": 0.0})
    scene = np.zeros(len(samples), dtype=int)
    inputs = (samples.history, samples.mask, samples.track, scene)
    positive = scorer.nll(*inputs, samples.x, np.arange(len(samples)))
    index, boxes = wrong_pairs(samples)
    x_wrong = box_displacement(samples.prediction[index], boxes)
    gap = np.rint(samples.track[index, 0] * np.exp(samples.track[index, 1]))
    keep = gate(x_wrong[:, None, :], gap, GATE_SHIFT, GATE_LOG_RATIO)[:, 0]
    negative = scorer.nll(*inputs, x_wrong[keep], index[keep])
    nll = np.r_[positive, negative][:, None]
    label = np.r_[np.ones(len(positive)), np.zeros(len(negative))]
    fit = LogisticRegression(random_state=seed).fit(nll, label)
    return {"slope": float(fit.coef_[0, 0]), "intercept": float(fit.intercept_[0])}


def true_and_wrong_nll(
    scorer: FlowScorer, samples: Samples, max_per_sample: int = 8
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How well the density separates a track's true next detection from the other people of
    the same frame, ungated: ``(true NLL per sample, NLL of every wrong pair, lowest wrong NLL
    per sample)``, the last ``inf`` where the frame holds no one else (an uncontested case)."""
    index, boxes = wrong_pairs(samples, max_per_sample)
    inputs = (samples.history, samples.mask, samples.track, np.zeros(len(samples), dtype=int))
    true_nll = scorer.nll(*inputs, samples.x, np.arange(len(samples)))
    wrong_nll = scorer.nll(*inputs, box_displacement(samples.prediction[index], boxes), index)
    best_wrong = np.full(len(samples), np.inf)
    np.minimum.at(best_wrong, index, wrong_nll)
    return true_nll, wrong_nll, best_wrong


def train_flow(
    seq_dirs: list[Path],
    out: Path,
    config: FlowConfig | None = None,
    epochs: int = DEFAULT_EPOCHS,
    batch: int = 512,
    lr: float = 2e-3,
    seed: int = 0,
    augmentation: Augmentation | None = None,
    val_fraction: float = 0.15,
    threads: int = 2,
    show_progress: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train on the ground truth of ``seq_dirs``, write the checkpoint to ``out`` and return
    the training record (also stored in the checkpoint)."""
    config = config or FlowConfig()
    augmentation = augmentation or Augmentation()
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    samples = make_samples(list(seq_dirs), config.history, augmentation, rng)
    people = np.unique(samples.person)
    val_people = rng.choice(people, max(1, int(len(people) * val_fraction)), replace=False)
    is_val = np.isin(samples.person, val_people)
    train_set, val_set = samples.subset(~is_val), samples.subset(is_val)
    log(f"{len(train_set)} training / {len(val_set)} validation pairs, {len(seq_dirs)} sequences")

    model = TrackFlowModel(config)
    train_t, val_t = _tensors(train_set), _tensors(val_set)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * ((len(train_set) + batch - 1) // batch)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, max(steps, 1))
    generator = torch.Generator().manual_seed(seed)
    history: list[dict[str, float]] = []
    initial = _mean_nll(model, val_t)  # the untrained model, for the record
    log(f"untrained validation NLL {initial:.4f}")
    best, best_state = float("inf"), None
    bar = tqdm(total=steps, unit="batch", disable=not show_progress)
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(train_set), generator=generator)
        running = 0.0
        for i in range(0, len(order), batch):
            h, m, t, x = (v[order[i : i + batch]] for v in train_t)
            scene = torch.zeros(len(h), dtype=torch.long)
            loss = -model.log_prob(x, model.context(h, m, t, scene)).mean()
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimiser.step()
            schedule.step()
            running += loss.item() * len(h)
            bar.update(1)
        train_nll = running / len(train_set)
        val_nll = _mean_nll(model, val_t)
        history.append({"epoch": epoch, "train_nll": train_nll, "val_nll": val_nll})
        bar.set_postfix(val_nll=f"{val_nll:.3f}")
        log(f"epoch {epoch}: train NLL {train_nll:.4f}, validation NLL {val_nll:.4f}")
        if val_nll < best:
            best = val_nll
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    calibration = calibrate(model, val_set, seed)
    record = {
        "sequences": [Path(d).name for d in seq_dirs],
        "pairs": {"train": len(train_set), "validation": len(val_set)},
        "initial_val_nll": initial,
        "epochs": history,
        "seed": seed,
        "augmentation": augmentation.__dict__,
        "seconds": time.perf_counter() - started,
    }
    save_checkpoint(out, model, calibration, record)
    log(f"calibration {calibration}; {record['seconds']:.0f} s; saved {out}")
    return record
