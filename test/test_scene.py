"""Scene clusters: the open_clip encoder (local weights only), k-means clusters and their file,
the every-N-frames classifier, and ``trackflow-fit-scenes`` on the real PETS09 video.

Encoders are random-initialised ``ViT-S-32`` (the smallest open_clip ViT; there is no CLIP
checkpoint on these machines), created with ``socket.socket.connect`` patched to raise, so any
attempt to reach the network fails the test. The network is the one thing mocked here.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from trackflow_ros.scene import (
    ClipEncoder,
    ClustersError,
    EncoderError,
    SceneClassifier,
    SceneClusters,
    fit_clusters,
)
from trackflow_ros.scene.fit_cli import main as fit_main
from trackflow_ros.scene.frames import FrameSourceError, video_frames

MODEL = "ViT-S-32"


class NetworkUsed(AssertionError):
    pass


def _no_connect(self, *args, **kwargs):
    raise NetworkUsed(f"network access attempted: connect{args}")


@pytest.fixture(scope="module")
def no_network():
    """Mock (the network cannot be allowed here): every socket connect raises."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", _no_connect)
        yield


@pytest.fixture(scope="module")
def encoder(no_network) -> ClipEncoder:
    torch.set_num_threads(1)
    return ClipEncoder(MODEL, "random", seed=0)


@pytest.fixture(scope="module")
def video(data_dir: Path) -> Path:
    return data_dir / "PETS09-S2L1.avi"


@pytest.fixture(scope="module")
def frames(video: Path) -> list[np.ndarray]:
    """Real frames 0, 200, 400, 600 of the PETS09 video."""
    _, it = video_frames(video, every=200)
    return list(it)


@pytest.fixture(scope="module")
def reference(encoder: ClipEncoder, frames: list[np.ndarray]) -> np.ndarray:
    return encoder.encode(frames)


# --- encoder -----------------------------------------------------------------------------


def test_random_encoder_gives_normalised_embeddings(encoder, frames, reference):
    assert len(frames) == 4
    assert reference.shape == (4, encoder.dim) and encoder.dim == 384
    assert reference.dtype == np.float32 and np.isfinite(reference).all()
    np.testing.assert_allclose(np.linalg.norm(reference, axis=1), 1.0, atol=1e-5)
    assert len(np.unique(reference.round(6), axis=0)) == 4  # different frames, different points
    assert encoder.encode([]).shape == (0, encoder.dim)
    # batching does not change the answer
    np.testing.assert_allclose(encoder.encode(frames[2:3])[0], reference[2], atol=1e-5)


def test_random_init_is_seeded_and_offline(no_network, frames, reference):
    """Same seed, same weights (clusters fitted with a random encoder stay valid for a later
    run), created with every socket connect raising."""
    again = ClipEncoder(MODEL, "random", seed=0)
    assert again.encoder_id == "random-init:seed=0" and again.random_init
    np.testing.assert_allclose(again.encode(frames[:2]), reference[:2], atol=1e-5)


def test_encoder_rejects_bad_frames(encoder):
    with pytest.raises(ValueError, match="BGR uint8"):
        encoder.encode([np.zeros((10, 10), np.uint8)])
    with pytest.raises(ValueError, match="BGR uint8"):
        encoder.encode([np.zeros((10, 10, 3), np.float32)])


def test_checkpoint_loads_from_local_file(no_network, encoder, frames, reference, tmp_path):
    """A whole-CLIP state dict wrapped the way training scripts save it ({"state_dict":
    {"module.visual.*"}}), and a vision-only safetensors file: the embeddings follow the file's
    weights (the projection is negated in the file, so the embeddings must flip sign)."""
    state = {k: v.clone() for k, v in encoder.visual.state_dict().items()}
    state["proj"] = -state["proj"]
    wrapped = tmp_path / "clip.pt"
    text = {"module.token_embedding.weight": torch.zeros(3, 2)}  # text tower keys are ignored
    torch.save(
        {"state_dict": {**{f"module.visual.{k}": v for k, v in state.items()}, **text}}, wrapped
    )
    loaded = ClipEncoder(MODEL, wrapped)
    np.testing.assert_allclose(loaded.encode(frames[:2]), -reference[:2], atol=1e-5)
    assert loaded.encoder_id.startswith("sha256:") and not loaded.random_init

    safe = tmp_path / "visual.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(safe))
    np.testing.assert_allclose(
        ClipEncoder(MODEL, safe).encode(frames[:1]), -reference[:1], atol=1e-5
    )


def test_missing_corrupt_or_mismatched_checkpoint_fails_naming_the_file(encoder, tmp_path):
    missing = tmp_path / "nowhere.pt"
    with pytest.raises(EncoderError, match=f"{missing}: CLIP checkpoint not found"):
        ClipEncoder(MODEL, missing)
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"PK\x03\x04 definitely not a checkpoint" * 10)
    with pytest.raises(EncoderError, match=f"{corrupt}: not a readable CLIP checkpoint"):
        ClipEncoder(MODEL, corrupt)
    corrupt_st = tmp_path / "corrupt.safetensors"
    corrupt_st.write_bytes(b"\x00" * 64)
    with pytest.raises(EncoderError, match=f"{corrupt_st}: not a readable CLIP checkpoint"):
        ClipEncoder(MODEL, corrupt_st)
    state = dict(encoder.visual.state_dict())
    del state["proj"]
    state["conv1.weight"] = torch.zeros(1, 3, 32, 32)
    mismatched = tmp_path / "other_model.pt"
    torch.save(state, mismatched)
    with pytest.raises(EncoderError, match=f"{mismatched}: does not fit") as err:
        ClipEncoder(MODEL, mismatched)
    assert "missing keys (e.g. proj)" in str(err.value) and "conv1.weight" in str(err.value)


def test_encoder_needs_an_explicit_choice_and_an_offline_model():
    with pytest.raises(EncoderError, match="no CLIP checkpoint given"):
        ClipEncoder(MODEL, None)
    with pytest.raises(EncoderError, match="unknown open_clip model 'ViT-Q-99'"):
        ClipEncoder("ViT-Q-99", "random")
    with pytest.raises(EncoderError, match="Hugging Face text tower"):
        ClipEncoder("roberta-ViT-B-32", "random")


def test_cuda_device_works_or_fails_clearly(frames, reference):
    """Written for both kinds of machine: without CUDA (here) asking for it is a clear error
    before any model is built; with CUDA the embeddings match the CPU ones."""
    if not torch.cuda.is_available():
        with pytest.raises(EncoderError, match="CUDA is not available"):
            ClipEncoder(MODEL, "random", device="cuda")
    else:
        gpu = ClipEncoder(MODEL, "random", device="cuda")
        np.testing.assert_allclose(gpu.encode(frames[:2]), reference[:2], atol=1e-3)
    with pytest.raises(EncoderError, match="invalid device"):
        ClipEncoder(MODEL, "random", device="tpu:x")


# --- clusters ----------------------------------------------------------------------------


def _blobs(k: int = 16, per: int = 5, dim: int = 8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, dim)) * 5
    return (centres[:, None, :] + rng.normal(scale=0.1, size=(k, per, dim))).reshape(-1, dim)


def test_fit_save_load_round_trip(tmp_path):
    x = _blobs()
    clusters = fit_clusters(x, MODEL, "random-init:seed=0", "random")
    assert clusters.k == 16 and clusters.dim == 8 and clusters.n_frames == 80
    labels = clusters.assign(x)
    # k-means recovers the 16 blobs: each blob's 5 points share a label, all labels used
    assert all(len(set(labels[i * 5 : i * 5 + 5])) == 1 for i in range(16))
    assert len(set(labels)) == 16
    path = tmp_path / "clusters.npz"
    clusters.save(path)
    loaded = SceneClusters.load(path)
    np.testing.assert_array_equal(loaded.centres, clusters.centres)
    assert (loaded.model, loaded.encoder_id, loaded.checkpoint, loaded.n_frames) == (
        MODEL, "random-init:seed=0", "random", 80,
    )  # fmt: skip
    np.testing.assert_array_equal(loaded.assign(x), labels)
    assert path.is_file() and not (tmp_path / "clusters.npz.tmp").exists()
    # seeded: the same fit again gives the same centres
    np.testing.assert_array_equal(fit_clusters(x, MODEL, "e", "c").centres, clusters.centres)


def test_fit_refuses_too_few_frames():
    with pytest.raises(ClustersError, match="need at least 16 frames"):
        fit_clusters(_blobs()[:10], MODEL, "e", "c")
    with pytest.raises(ClustersError, match="distinct"):
        fit_clusters(np.repeat(_blobs()[:3], 10, axis=0), MODEL, "e", "c")
    assert fit_clusters(_blobs()[:10], MODEL, "e", "c", k=4).k == 4  # asked for explicitly
    with pytest.raises(ClustersError, match=r"1\.\.16"):
        fit_clusters(_blobs(), MODEL, "e", "c", k=17)


def test_bad_clusters_files_fail_naming_the_file(tmp_path):
    good = fit_clusters(_blobs(), MODEL, "e", "c")
    missing = tmp_path / "missing.npz"
    with pytest.raises(ClustersError, match=f"{missing}: scene clusters file not found"):
        SceneClusters.load(missing)
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"not a zip at all")
    with pytest.raises(ClustersError, match=f"{corrupt}: not a readable scene clusters file"):
        SceneClusters.load(corrupt)
    truncated = tmp_path / "truncated.npz"
    good.save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:200])
    with pytest.raises(ClustersError, match=f"{truncated}: not a"):
        SceneClusters.load(truncated)
    fields = {
        "format_version": 1, "centres": good.centres, "model": MODEL, "dim": 8,
        "encoder_id": "e", "checkpoint": "c", "n_frames": 80,
    }  # fmt: skip
    cases = {
        "no_model": ({k: v for k, v in fields.items() if k != "model"}, "missing model"),
        "version": ({**fields, "format_version": 2}, "format version 2"),
        "dim": ({**fields, "dim": 9}, "dim 9 disagrees"),
        "too_many": ({**fields, "centres": np.zeros((17, 8))}, "17 clusters"),
        "nan": ({**fields, "centres": np.full((16, 8), np.nan)}, "NaN"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / f"{name}.npz"
        np.savez(path, **content)
        with pytest.raises(ClustersError, match=f"{path}: .*{message}"):
            SceneClusters.load(path)


# --- classifier --------------------------------------------------------------------------


def test_classifier_encodes_every_period_frames(encoder, frames, reference):
    """Four real frames, each its own cluster; fed [f0, f1, f2, f3, f0, f1, f2] with period 3,
    the classifier must encode f0, f3, f2 only and repeat their clusters in between."""
    clusters = fit_clusters(reference, MODEL, encoder.encoder_id, "random", k=4)
    own = clusters.assign(reference)
    assert len(set(own)) == 4
    classifier = SceneClassifier(encoder, clusters, period=3)
    calls = []
    real_encode = encoder.encode

    def spy(batch):  # the real encoder, with its calls recorded
        calls.append(len(batch))
        return real_encode(batch)

    encoder.encode = spy
    try:
        sequence = [0, 1, 2, 3, 0, 1, 2]
        out = [classifier.update(frames[i]) for i in sequence]
        assert calls == [1, 1, 1] and classifier.encodes == 3
        assert out == [own[0]] * 3 + [own[3]] * 3 + [own[2]]
        classifier.reset()
        assert classifier.update(frames[1]) == own[1] and len(calls) == 4
        assert classifier.update(frames[2]) == own[1] and len(calls) == 4
        # a bad frame due for encoding raises and leaves the state as it was
        classifier.reset()
        with pytest.raises(ValueError, match="BGR uint8"):
            classifier.update(np.zeros((4, 4), np.uint8))
        assert classifier.update(frames[3]) == own[3] and classifier.encodes == 1
    finally:
        del encoder.encode


def test_classifier_refuses_clusters_of_another_encoder(encoder, reference):
    other_weights = fit_clusters(reference, MODEL, "sha256:abc", "clip.pt", k=2)
    with pytest.raises(ClustersError, match="other ViT-S-32 weights"):
        SceneClassifier(encoder, other_weights, period=5)
    other_model = SceneClusters(np.zeros((2, 512), np.float32), "ViT-B-32", "e", "c", 2)
    with pytest.raises(ClustersError, match="fitted with ViT-B-32"):
        SceneClassifier(encoder, other_model, period=5)
    with pytest.raises(ValueError, match="period"):
        SceneClassifier(encoder, fit_clusters(reference, MODEL, encoder.encoder_id, "r", k=2), 0)


def test_from_files_offline(no_network, encoder, frames, reference, tmp_path):
    """The run-time entry point: clusters file + model name; ``checkpoint=None`` takes the
    clusters' own (here the seeded random encoder), with sockets unusable."""
    path = tmp_path / "clusters.npz"
    fit_clusters(reference, MODEL, encoder.encoder_id, "random", k=4).save(path)
    classifier = SceneClassifier.from_files(MODEL, None, path, period=2)
    expected = SceneClusters.load(path).assign(reference)
    assert [classifier.update(f) for f in frames] == [expected[i] for i in (0, 0, 2, 2)]
    with pytest.raises(EncoderError, match=f"{tmp_path / 'x.pt'}: CLIP checkpoint not found"):
        SceneClassifier.from_files(MODEL, tmp_path / "x.pt", path, 2)
    with pytest.raises(ClustersError, match=f"{path}: clusters were fitted with ViT-S-32, not"):
        SceneClassifier.from_files("ViT-B-32", None, path, 2)
    with pytest.raises(ClustersError, match=f"{tmp_path / 'none.npz'}: scene clusters file not"):
        SceneClassifier.from_files(MODEL, "random", tmp_path / "none.npz", 2)


# --- trackflow-fit-scenes ------------------------------------------------------------------


def test_cli_fits_clusters_on_the_real_video(video, tmp_path, capsys):
    """16 real frames (every 50th), the default k = 16; in-process to spare the test a second
    torch import (the ``-m`` entry point is run as a subprocess in the next test)."""
    out = tmp_path / "clusters.npz"
    args = ["--video", str(video), "--out", str(out), "--model", MODEL, "--random-init"]
    assert fit_main([*args, "--every", "50", "--no-progress"]) == 0
    assert "16 frames" in capsys.readouterr().out
    clusters = SceneClusters.load(out)
    assert clusters.k == 16 and clusters.dim == 384 and clusters.n_frames == 16
    assert clusters.model == MODEL and clusters.encoder_id == "random-init:seed=0"
    np.testing.assert_allclose(np.linalg.norm(clusters.centres, axis=1), 1.0, atol=1e-4)


def test_cli_too_few_frames_is_an_error(frames, tmp_path):
    """Fewer sampled frames than clusters: exit 2 with a message naming the source, no file."""
    images = tmp_path / "images"
    images.mkdir()
    for i, f in enumerate(frames):
        cv2.imwrite(str(images / f"{i:03d}.png"), f)
    out = tmp_path / "clusters.npz"
    cmd = [sys.executable, "-m", "trackflow_ros.scene.fit_cli", "--images", str(images)]
    cmd += ["--out", str(out), "--model", MODEL, "--random-init", "--no-progress"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert f"{images}: 4 frames sampled" in result.stderr and "--clusters 4" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


def test_cli_errors_name_the_file(video, frames, tmp_path, capsys):
    images = tmp_path / "images"
    images.mkdir()
    for i, f in enumerate(frames):
        cv2.imwrite(str(images / f"{i:03d}.png"), f)
    out = tmp_path / "clusters.npz"
    out.write_bytes(b"an earlier file")

    def run(*args: str) -> str:
        assert fit_main([*args, "--no-progress"]) == 2
        return capsys.readouterr().err

    err = run("--images", str(images), "--out", str(out), "--random-init", "--model", MODEL)
    assert f"{images}: 4 frames sampled" in err
    assert out.read_bytes() == b"an earlier file"  # nothing lost
    bad = images / "004.png"
    bad.write_bytes(b"not a png")
    err = run("--images", str(images), "--out", str(out), "--random-init", "--model", MODEL,
              "--clusters", "2")  # fmt: skip
    assert f"{bad}: cannot be read as an image" in err
    err = run("--video", str(tmp_path / "none.avi"), "--out", str(out), "--random-init")
    assert f"{tmp_path / 'none.avi'}: video not found" in err
    err = run("--video", str(bad), "--out", str(out), "--random-init")
    assert f"{bad}: cannot be opened as a video" in err or f"{bad}: no frame" in err
    err = run("--video", str(video), "--out", str(out), "--checkpoint", str(tmp_path / "w.pt"))
    assert f"{tmp_path / 'w.pt'}: CLIP checkpoint not found" in err
    err = run("--video", str(video), "--out", str(tmp_path / "no" / "c.npz"), "--random-init")
    assert "does not exist" in err
    assert "--clusters must be 1..16" in run("--video", str(video), "--out", str(out),
                                             "--random-init", "--clusters", "17")  # fmt: skip
    assert "--every must be >= 1" in run("--video", str(video), "--out", str(out),
                                         "--random-init", "--every", "0")  # fmt: skip
    with pytest.raises(FrameSourceError, match="pattern matches no file"):
        from trackflow_ros.scene.frames import image_paths

        image_paths([str(tmp_path / "*.jpeg")])
