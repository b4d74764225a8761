"""DistSynth: per-person distance and its uncertainty from a short clip (MOTSynth paper's design).

Per frame, a ResNet (torchvision, ``weights=None``: never downloaded) reads 4 channels, the RGB
frame plus a heatmap with a Gaussian at each person-box centre, so the network knows which
people are asked about. A ConvLSTM runs over the coarsest feature map of the T frames of the
clip (T = 1 works: one step), an FPN (``torchvision.ops.FeaturePyramidNetwork``) merges it with
the finer maps of the last frame to keep spatial detail, and ``torchvision.ops.roi_align``
pools every box of the last frame from each FPN level. An MLP head predicts the mean distance
and the log-variance; training minimises the Gaussian negative log-likelihood
(``torch.nn.GaussianNLLLoss``).

One deliberate addition to the paper's head, because the intrinsics are known at run time (a
robot's CameraInfo) and nothing is pretrained here: the MLP also reads the box geometry in
normalised camera coordinates (the box corners as rays, log box aspect, border contacts) and
the pinhole distance of the box, and predicts the mean as a learned log-correction of that
pinhole prior, ``mean = prior * exp(r)``, and the variance relative to it,
``var = prior^2 * exp(s)``. The network then does not have to learn each camera's focal length
or image size from pixels, which makes a model trained on small synthetic images usable on
other cameras (PETS09's focal length is 4x the synthetic one), and a zero-initialised last
layer starts training at the pinhole answer. What it must learn is when and by how much the
box height lies (occlusion, truncation, posture) and how sure it can be.

The default configuration is the paper's: ResNet-34, clips of 6 frames, 640x480 input.
``DistSynthConfig.small()`` (ResNet-18, 160x120, narrower FPN/LSTM/head) is the variant that
trains on a CPU in minutes.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
import torchvision
from torch import nn
from torchvision.ops import FeaturePyramidNetwork, roi_align

CHECKPOINT_FORMAT = "trackflow-distsynth"
CHECKPOINT_VERSION = 1
BACKBONES = {"resnet18": (64, 128, 256, 512), "resnet34": (64, 128, 256, 512)}
N_GEOMETRY = 11  # see box_geometry()
LOG_VAR_RANGE = (-10.0, 6.0)  # of var / prior^2; keeps the NLL finite early in training


class DistSynthWeightsError(ValueError):
    """A checkpoint that cannot be used: missing, corrupt, or made for another model."""


@dataclass(frozen=True)
class DistSynthConfig:
    """Architecture and input size. Defaults are the paper's; see ``small()`` for CPU work."""

    backbone: str = "resnet34"
    input_width: int = 640
    input_height: int = 480
    clip_length: int = 6
    lstm_channels: int = 256
    fpn_channels: int = 128
    roi_size: int = 4
    head_hidden: int = 256
    person_height: float = 1.7  # metres, for the pinhole prior
    heatmap_sigma: float = 0.2  # Gaussian sigma as a fraction of the box height (>= 1 px)

    def __post_init__(self) -> None:
        if self.backbone not in BACKBONES:
            raise ValueError(f"backbone must be one of {sorted(BACKBONES)}, got {self.backbone!r}")
        if self.input_width < 32 or self.input_height < 32:
            raise ValueError("input size must be at least 32x32")
        if self.clip_length < 1:
            raise ValueError(f"clip_length must be >= 1, got {self.clip_length}")

    @classmethod
    def small(cls) -> DistSynthConfig:
        """ResNet-18 on 160x120 frames: trains on a 2-core CPU in ~15 minutes."""
        return cls(
            backbone="resnet18",
            input_width=160,
            input_height=120,
            clip_length=6,
            lstm_channels=128,
            fpn_channels=64,
            head_hidden=128,
        )

    @classmethod
    def from_dict(cls, data: dict) -> DistSynthConfig:
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown config keys {sorted(unknown)}")
        return cls(**data)


class ConvLSTMCell(nn.Module):
    """A convolutional LSTM cell (Shi et al. 2015): the LSTM gates are 3x3 convolutions."""

    def __init__(self, in_channels: int, hidden: int) -> None:
        super().__init__()
        self.hidden = hidden
        self.gates = nn.Conv2d(in_channels + hidden, 4 * hidden, 3, padding=1)

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = state
        i, f, o, g = torch.chunk(self.gates(torch.cat([x, h], 1)), 4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


class DistSynth(nn.Module):
    """See the module docstring. ``forward`` takes preprocessed tensors (``distsynth.py``)."""

    def __init__(self, config: DistSynthConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or DistSynthConfig()
        resnet = getattr(torchvision.models, cfg.backbone)(weights=None)
        conv1 = nn.Conv2d(4, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.stem = nn.Sequential(conv1, resnet.bn1, resnet.relu, resnet.maxpool)
        self.layer1, self.layer2 = resnet.layer1, resnet.layer2
        self.layer3, self.layer4 = resnet.layer3, resnet.layer4
        c2, c3, c4, c5 = BACKBONES[cfg.backbone]
        self.reduce = nn.Conv2d(c5, cfg.lstm_channels, 1)
        self.lstm = ConvLSTMCell(cfg.lstm_channels, cfg.lstm_channels)
        self.fpn = FeaturePyramidNetwork([c2, c3, c4, cfg.lstm_channels], cfg.fpn_channels)
        pooled = 4 * cfg.fpn_channels * cfg.roi_size**2
        self.roi_proj = nn.Sequential(nn.Linear(pooled, cfg.head_hidden), nn.ReLU(inplace=True))
        self.head = nn.Sequential(
            nn.Linear(cfg.head_hidden + N_GEOMETRY, cfg.head_hidden),
            nn.ReLU(inplace=True),
            nn.Linear(cfg.head_hidden, cfg.head_hidden),
            nn.ReLU(inplace=True),
            nn.Linear(cfg.head_hidden, 2),
        )
        nn.init.zeros_(self.head[-1].weight)  # start at the pinhole prior, 30 % spread
        with torch.no_grad():
            self.head[-1].bias.copy_(torch.tensor([0.0, 2 * math.log(0.3)]))

    def encode(self, frames: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Per-frame features (B, 4, H, W) -> C2, C3, C4 and the reduced C5."""
        x = self.stem(frames)
        c2 = self.layer1(x)
        c3 = self.layer2(c2)
        c4 = self.layer3(c3)
        return c2, c3, c4, self.reduce(self.layer4(c4))

    def decode(
        self,
        last: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
        c5_seq: torch.Tensor,
        rois: torch.Tensor,
        geometry: torch.Tensor,
        prior: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """C2-C4 of each clip's last frame, reduced C5 of all its frames (B, T, C, h, w), and
        the boxes of the last frame -> mean and log-variance per roi."""
        h = torch.zeros_like(c5_seq[:, 0])
        c = torch.zeros_like(c5_seq[:, 0])
        for t in range(c5_seq.shape[1]):
            h, c = self.lstm(c5_seq[:, t], (h, c))
        c2, c3, c4 = last
        pyramid = self.fpn({"c2": c2, "c3": c3, "c4": c4, "c5": h})  # stride 4, 8, 16, 32
        pooled = [
            roi_align(
                level,
                rois,
                output_size=self.config.roi_size,
                spatial_scale=1.0 / stride,
                sampling_ratio=2,
                aligned=True,
            ).flatten(1)
            for level, stride in zip(pyramid.values(), (4, 8, 16, 32), strict=True)
        ]
        z = self.roi_proj(torch.cat(pooled, 1))
        out = self.head(torch.cat([z, geometry], 1))
        log_prior = torch.log(prior)
        mean = torch.exp(log_prior + out[:, 0])
        log_var = 2 * log_prior + out[:, 1].clamp(*LOG_VAR_RANGE)
        return mean, log_var

    def forward(
        self, clip: torch.Tensor, rois: torch.Tensor, geometry: torch.Tensor, prior: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """clip (B, T, 4, H, W); rois (N, 5) [clip index, x1, y1, x2, y2] in input pixels of
        the last frame; geometry (N, 11); prior (N,) pinhole distances -> mean, log-variance."""
        b, t = clip.shape[:2]
        c2, c3, c4, c5 = self.encode(clip.flatten(0, 1))
        last = torch.arange(t - 1, b * t, t, device=clip.device)
        c5_seq = c5.reshape(b, t, *c5.shape[1:])
        return self.decode((c2[last], c3[last], c4[last]), c5_seq, rois, geometry, prior)


def gaussian_nll(mean: torch.Tensor, log_var: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The training loss: Gaussian negative log-likelihood of the true distances."""
    return nn.functional.gaussian_nll_loss(mean, target, torch.exp(log_var), eps=1e-6)


# --------------------------------------------------------------------------- inputs


def box_heatmap(boxes: np.ndarray, width: int, height: int, sigma_rel: float) -> np.ndarray:
    """(height, width) float32 map: the max over boxes of a Gaussian at each box centre."""
    out = np.zeros((height, width), np.float32)
    if len(boxes) == 0:
        return out
    ys, xs = np.arange(height, dtype=np.float32), np.arange(width, dtype=np.float32)
    for x1, y1, x2, y2 in np.asarray(boxes, np.float32)[:, :4]:
        cx, cy = (x1 + x2) / 2 - 0.5, (y1 + y2) / 2 - 0.5
        s = max(1.0, sigma_rel * (y2 - y1))
        gx, gy = np.exp(-0.5 * ((xs - cx) / s) ** 2), np.exp(-0.5 * ((ys - cy) / s) ** 2)
        np.maximum(out, gy[:, None] * gx[None, :], out=out)
    return out


def pinhole_prior(boxes: np.ndarray, fx: float, fy: float, cx: float, cy: float, h_m: float):
    """Pinhole distance (camera centre to foot point) of each box; heights clamped at 1 px."""
    x1, y1, x2, y2 = (boxes[:, i] for i in range(4))
    depth = fy * h_m / np.maximum(y2 - y1, 1.0)
    ray = np.stack([((x1 + x2) / 2 - cx) / fx, (y2 - cy) / fy, np.ones_like(x1)], 1)
    return depth * np.linalg.norm(ray, axis=1)


def box_geometry(
    boxes: np.ndarray, fx: float, fy: float, cx: float, cy: float, width: int, height: int,
    prior: np.ndarray, margin: float = 2.0,
) -> np.ndarray:  # fmt: skip
    """(N, 11): box corners as normalised rays, log prior/10 m, log width-based distance/10 m,
    log aspect, and contact with the left, top, right and bottom image border."""
    x1, y1, x2, y2 = (boxes[:, i] for i in range(4))
    w, h = np.maximum(x2 - x1, 1.0), np.maximum(y2 - y1, 1.0)
    return np.stack(
        [
            (x1 - cx) / fx,
            (y1 - cy) / fy,
            (x2 - cx) / fx,
            (y2 - cy) / fy,
            np.log(prior / 10.0),
            np.log(fx * 0.45 / w / 10.0),
            np.log(h / w),
            (x1 <= margin).astype(float),
            (y1 <= margin).astype(float),
            (x2 >= width - 1 - margin).astype(float),
            (y2 >= height - 1 - margin).astype(float),
        ],
        1,
    ).astype(np.float32)


# --------------------------------------------------------------------------- checkpoints


def save_checkpoint(path: Path | str, model: DistSynth, info: dict | None = None) -> Path:
    """Weights + config + format version (+ training facts) in one torch file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().float().cpu() for k, v in model.state_dict().items()}
    torch.save(
        {
            "format": CHECKPOINT_FORMAT,
            "format_version": CHECKPOINT_VERSION,
            "config": asdict(model.config),
            "state_dict": state,
            "info": info or {},
        },
        path,
    )
    return path


def load_checkpoint(path: Path | str, device: str = "cpu") -> tuple[DistSynth, dict]:
    """A DistSynth model in eval mode from ``path``, and its training info. Never downloads;
    any problem with the file raises DistSynthWeightsError naming it."""
    path = Path(path)
    if not path.is_file():
        raise DistSynthWeightsError(f"{path}: DistSynth weights file not found")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a corrupt file
        raise DistSynthWeightsError(f"{path}: not a readable torch checkpoint ({exc!r})") from exc
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise DistSynthWeightsError(f"{path}: not a DistSynth checkpoint (format key missing)")
    if data.get("format_version") != CHECKPOINT_VERSION:
        raise DistSynthWeightsError(
            f"{path}: checkpoint format version {data.get('format_version')!r}, "
            f"this code reads version {CHECKPOINT_VERSION}"
        )
    try:
        config = DistSynthConfig.from_dict(dict(data["config"]))
        model = DistSynth(config)
        model.load_state_dict(data["state_dict"], strict=True)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise DistSynthWeightsError(
            f"{path}: weights do not fit the DistSynth model: {exc}"
        ) from exc
    return model.to(device).eval(), dict(data.get("info", {}))


def resolve_device(device: str) -> torch.device:
    """ "cpu", "cuda", "cuda:N" or "auto" (cuda when available)."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} asked for but CUDA is not available")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be cpu, cuda or auto, got {device!r}")
    return dev
