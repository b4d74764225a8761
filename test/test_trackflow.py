"""TrackFlow: features, density, training, checkpoints and the cost inside the trackers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from trackflow_ros.association.checkpoint import (
    DEFAULT_WEIGHTS,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)
from trackflow_ros.association.cost import TrackFlowCost
from trackflow_ros.association.data import Augmentation, make_samples
from trackflow_ros.association.features import (
    gate,
    history_features,
    pair_features,
)
from trackflow_ros.association.model import FlowConfig, TrackFlowModel
from trackflow_ros.association.scorer import FlowScorer
from trackflow_ros.association.train import train_flow, true_and_wrong_nll
from trackflow_ros.evaluation.mot_eval import evaluate_split
from trackflow_ros.tracking import TRACKERS, iou_matrix, make_tracker

SMALL = FlowConfig(num_blocks=2, hidden=32, gru_hidden=16, context=16, history=6)


def mot15(data_dir: Path, name: str) -> Path:
    return data_dir / "MOT15" / "train" / name


# --- features ------------------------------------------------------------------------------
def test_pair_features_known_values():
    track = np.array([[100.0, 100.0, 140.0, 200.0]])  # centre (120, 150), 40 x 100
    dets = np.array([[110.0, 120.0, 150.0, 220.0, 0.9], [100.0, 100.0, 180.0, 300.0, 0.9]])
    x = pair_features(track, dets)
    assert x.shape == (1, 2, 4)
    np.testing.assert_allclose(x[0, 0], [0.1, 0.2, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(x[0, 1], [0.2, 0.5, np.log(2), np.log(2)], atol=1e-12)
    with pytest.raises(ValueError, match="use_distance"):
        pair_features(track, dets, use_distance=True)
    with_dist = pair_features(
        track, np.c_[dets, [10.0, 20.0]], track_distances=np.array([10.0]), use_distance=True
    )
    np.testing.assert_allclose(with_dist[0, :, 4], [0.0, np.log(2)])


def test_gate_scales_with_the_gap():
    x = np.array([[[0.5, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]])
    assert gate(x, np.array([1]), 0.6, 0.7).tolist() == [[True, False, False]]
    assert gate(x, np.array([2]), 0.6, 0.7).tolist() == [[True, True, False]]


def test_history_is_masked_for_short_tracks():
    obs = [(5, np.array([0.0, 0, 10, 20, 1])), (6, np.array([1.0, 0, 11, 20, 1]))]
    steps, mask, track = history_features(obs, now=9, k=4, frame_rate=10.0)
    assert mask.tolist() == [False, False, True, True]
    assert (steps[:2] == 0).all()
    np.testing.assert_allclose(steps[3], 0.0)  # the latest observation, relative to itself
    np.testing.assert_allclose(steps[2, 4], 0.1)  # one frame back at 10 fps
    np.testing.assert_allclose(track[:2], [0.3, np.log(10.0)])  # 3 frames since, log fps
    np.testing.assert_allclose(track[3:], 0.0)  # compared with the last observation itself
    ahead = history_features(obs, 9, 4, 10.0, reference=np.array([3.0, 0, 13, 20]))[2]
    np.testing.assert_allclose(ahead[3:], [0.1, 0, 0, 0])


# --- the model is a density, and it learns ---------------------------------------------------
@pytest.fixture(scope="module")
def small_model(data_dir, tmp_path_factory):
    """Trained briefly on two real sequences; TUD-Campus stays unseen."""
    path = tmp_path_factory.mktemp("flow") / "small.pt"
    seqs = [mot15(data_dir, "TUD-Stadtmitte"), mot15(data_dir, "ETH-Sunnyday")]
    record = train_flow(seqs, path, config=SMALL, epochs=4, show_progress=False, log=lambda m: None)
    return path, record


def test_nll_falls_during_training(small_model):
    _, record = small_model
    val = [e["val_nll"] for e in record["epochs"]]
    train = [e["train_nll"] for e in record["epochs"]]
    assert val[-1] < record["initial_val_nll"] - 1.0  # far below the untrained model
    assert val[-1] <= val[0] and train[-1] < train[0]


def test_the_flow_integrates_to_one(small_model):
    """Importance sampling: E_q[p/q] = integral of p; q a Gaussian broader than p."""
    model, _, _ = load_checkpoint(small_model[0])
    torch.manual_seed(0)
    track = torch.tensor([[1 / 7, np.log(7.0), 0.0, 0.05, 0.0, 0.0, 0.0]], dtype=torch.float32)
    history = torch.zeros(1, SMALL.history, 5)
    mask = torch.ones(1, SMALL.history, dtype=torch.bool)
    context = model.context(history, mask, track, torch.zeros(1, dtype=torch.long))
    with torch.inference_mode():
        samples = model.flow.sample(4000, context=context)[0].double()
        mean, std = samples.mean(0), samples.std(0) * 2.0
        q = torch.distributions.Normal(mean, std)
        x = q.sample((200_000,))
        log_p = model.log_prob(x.float(), context.expand(len(x), -1)).double()
        integral = torch.exp(log_p - q.log_prob(x).sum(-1)).mean().item()
    assert integral == pytest.approx(1.0, abs=0.05)


def test_true_pairs_rank_first_on_an_unseen_sequence(small_model, data_dir):
    model, calibration, _ = load_checkpoint(small_model[0])
    scorer = FlowScorer(model, calibration)
    rng = np.random.default_rng(1)
    samples = make_samples([mot15(data_dir, "TUD-Campus")], SMALL.history, Augmentation(1), rng)
    true_nll, wrong_nll, best_wrong = true_and_wrong_nll(scorer, samples)
    has_rival = np.isfinite(best_wrong)
    rate = float((true_nll[has_rival] < best_wrong[has_rival]).mean())
    print(f"true detection ranked first in {rate:.1%} of {has_rival.sum()} contested cases")
    assert has_rival.sum() > 200 and rate > 0.95
    cost_true = scorer.cost(true_nll).mean()
    cost_wrong = scorer.cost(wrong_nll).mean()
    assert cost_true < 0.3 < 0.9 < cost_wrong


# --- checkpoints ---------------------------------------------------------------------------
def test_checkpoint_round_trip_and_config_mismatch(small_model, tmp_path):
    path = small_model[0]
    model, _, record = load_checkpoint(path, expected=SMALL)
    assert model.config == SMALL and record["sequences"] == ["TUD-Stadtmitte", "ETH-Sunnyday"]
    with pytest.raises(CheckpointError, match=r"history: file has 6, expected 8") as err:
        load_checkpoint(path, expected=FlowConfig())
    assert str(path) in str(err.value)


def test_corrupt_truncated_and_foreign_checkpoints_fail_clearly(small_model, tmp_path):
    good = small_model[0].read_bytes()
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good[: len(good) // 2])
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, foreign)
    for path, reason in [
        (truncated, "not a readable checkpoint"),
        (garbage, "not a readable checkpoint"),
        (foreign, "not a TrackFlow checkpoint"),
        (tmp_path / "missing.pt", "no such checkpoint file"),
    ]:
        with pytest.raises(CheckpointError, match=reason) as err:
            load_checkpoint(path)
        assert str(path) in str(err.value)


def test_weights_that_do_not_fit_the_config_fail_clearly(tmp_path):
    model = TrackFlowModel(SMALL)
    path = tmp_path / "bad.pt"
    save_checkpoint(path, model, {"slope": -1.0, "intercept": 0.0}, {})
    blob = torch.load(path, weights_only=True)
    blob["config"]["hidden"] = 48  # the weights are for 32
    torch.save(blob, path)
    with pytest.raises(CheckpointError, match="weights do not fit the stored config"):
        load_checkpoint(path)


# --- the shipped model inside the trackers ---------------------------------------------------
def test_shipped_checkpoint_loads_from_the_package():
    assert DEFAULT_WEIGHTS.is_file() and DEFAULT_WEIGHTS.stat().st_size < 5_000_000
    _, calibration, record = load_checkpoint(DEFAULT_WEIGHTS)
    assert calibration["slope"] < 0  # higher NLL, lower match probability
    assert record["sequences"]  # says what it was trained on


def test_cost_contract_and_gate():
    cost = TrackFlowCost(frame_rate=10.0, iou_weight=0.0)
    tracker = make_tracker("sort", cost=cost, frame_rate=10.0)
    for k in range(5):
        tracker.update(np.array([[100.0 + 4 * k, 100, 140 + 4 * k, 200, 0.9]]))
    tracks = tracker.tracks
    boxes = np.array([t.box for t in tracks])
    dets = np.array(
        [[120.0, 100, 160, 200, 0.9], [128.0, 104, 170, 208, 0.9], [900.0, 100, 940, 200, 0.9]]
    )
    c = cost(tracks, dets, boxes)
    assert c.shape == (1, 3)
    assert c[0, 0] < c[0, 1] < 1.0 and np.isinf(c[0, 2])  # far away: gated, never evaluated
    assert cost(tracks, dets[:0], boxes).shape == (1, 0)
    iou_only = TrackFlowCost(frame_rate=10.0, iou_weight=1.0, iou_weight_next_frame=1.0)
    np.testing.assert_allclose(iou_only(tracks, dets, boxes), 1.0 - iou_matrix(boxes, dets))


@pytest.mark.parametrize("name", sorted(TRACKERS))
def test_every_tracker_runs_with_trackflow_on_a_real_sequence(name, data_dir, tmp_path):
    def make(seq):
        cost = TrackFlowCost(frame_rate=seq.frame_rate)
        return make_tracker(name, cost=cost, frame_rate=seq.frame_rate)

    summary = evaluate_split(mot15(data_dir, "TUD-Campus"), make, tmp_path, show_progress=False)
    combined = summary["combined"]
    assert combined["HOTA"] > 40 and combined["IDF1"] > 50 and combined["MOTA"] > 45


def test_train_cli_writes_a_loadable_checkpoint_and_rejects_bad_data(data_dir, tmp_path):
    from trackflow_ros.cli import train_flow_main

    out = tmp_path / "cli.pt"
    code = train_flow_main(
        ["--data", str(mot15(data_dir, "TUD-Campus")), "--out", str(out), "--epochs", "1",
         "--blocks", "2", "--history", "4"]
    )  # fmt: skip
    assert code == 0
    model, _, record = load_checkpoint(out)
    assert model.config.num_blocks == 2 and model.config.history == 4
    assert record["sequences"] == ["TUD-Campus"] and len(record["epochs"]) == 1
    assert train_flow_main(["--data", str(tmp_path), "--out", str(tmp_path / "x.pt")]) == 2
