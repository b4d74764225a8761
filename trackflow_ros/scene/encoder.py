"""CLIP image embeddings of whole frames, from an open_clip vision tower and a local checkpoint.

TrackFlow conditions its flow on a scene cluster: a k-means cluster of the frame's CLIP
embedding. Only the image tower is kept (the text tower is dropped after creation), and weights
never come from the network:

- the model is created by open_clip with ``pretrained=None`` and base-tower downloads off
  (``pretrained_image=False``, ``pretrained_text=False``); model names that need a Hugging Face
  text config (``roberta-*``, ``mt5-*``, ...) or a hub schema (``hf-hub:``) are refused, since
  creating them would fetch a config;
- the weights are read from a local file (open_clip/OpenCLIP state dicts ``.pt``/``.bin``,
  ``.safetensors``, or an OpenAI TorchScript ``.pt``), whole-CLIP (``visual.*`` keys) or
  vision-only, and must fit the vision tower exactly (strict load);
- ``checkpoint="random"`` gives a seeded random initialisation, for tests and for benchmarks on
  machines without a checkpoint. It is deterministic (same seed, same weights), so clusters
  fitted with it stay valid for a later run with the same seed.

Note that OpenAI's original weights were trained with QuickGELU: load them into the
``*-quickgelu`` model name (the state dict cannot tell the two activations apart).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import open_clip
import torch
import torch.nn.functional as F
from PIL import Image

from trackflow_ros.scene.base import DEFAULT_MODEL, RANDOM_INIT, EncoderError

__all__ = ["DEFAULT_MODEL", "RANDOM_INIT", "ClipEncoder", "EncoderError"]


class _DropRandomInitWarning(logging.Filter):
    """open_clip logs "initialized randomly" for ``pretrained=None`` even when we load the
    weights right after; the message would mislead, so it is filtered during creation."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "initialized randomly" not in record.getMessage()


@contextlib.contextmanager
def _quiet_random_init() -> Iterator[None]:
    root = logging.getLogger()
    drop = _DropRandomInitWarning()
    root.addFilter(drop)
    try:
        yield
    finally:
        root.removeFilter(drop)


def check_model_name(model: str) -> None:
    """Refuse names open_clip does not know, and those whose creation would reach the network."""
    known = open_clip.list_models()
    if model not in known:
        close = [m for m in known if model.lower().split("-")[0] in m.lower()][:8]
        hint = f" (similar: {', '.join(close)})" if close else ""
        raise EncoderError(f"unknown open_clip model {model!r}{hint}")
    config = open_clip.get_model_config(model) or {}
    if "hf_model_name" in config.get("text_cfg", {}):
        raise EncoderError(
            f"open_clip model {model!r} has a Hugging Face text tower whose config would be "
            "downloaded at creation; pick a model with a built-in text tower (e.g. ViT-B-32)"
        )


def file_fingerprint(path: Path) -> str:
    """``sha256:<hex>`` of a checkpoint file: clusters remember the exact weights they were
    fitted with, whatever the file is called on the robot."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return f"sha256:{digest.hexdigest()}"


def read_visual_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The vision-tower weights in ``path``, keys relative to the tower; errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise EncoderError(f"{path}: CLIP checkpoint not found")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path), device="cpu")
        else:
            state = _torch_load(path)
    except EncoderError:
        raise
    except Exception as err:  # torch/safetensors raise many types for a bad file
        raise EncoderError(f"{path}: not a readable CLIP checkpoint ({err})") from err
    for key in ("state_dict", "model"):  # training checkpoints wrap the weights
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not state:
        raise EncoderError(f"{path}: holds no state dict (got {type(state).__name__})")
    state = {k.removeprefix("module."): v for k, v in state.items() if torch.is_tensor(v)}
    if any(k.startswith("visual.") for k in state):
        state = {k[len("visual.") :]: v for k, v in state.items() if k.startswith("visual.")}
    return state


def _torch_load(path: Path) -> object:
    """A pickled state dict (``weights_only``: no code runs), else a TorchScript archive (how
    OpenAI published CLIP), whose parameters are taken as a state dict."""
    try:
        with warnings.catch_warnings():  # torch notes that it hands TorchScript to jit.load
            warnings.filterwarnings("ignore", message=".*TorchScript archive", category=UserWarning)
            loaded = torch.load(path, map_location="cpu", weights_only=True)
        return loaded.state_dict() if isinstance(loaded, torch.jit.ScriptModule) else loaded
    except Exception as pickled_error:
        try:
            with warnings.catch_warnings():  # "torch.jit.load is deprecated": it is the format
                warnings.simplefilter("ignore", FutureWarning)
                return torch.jit.load(str(path), map_location="cpu").state_dict()
        except Exception:
            raise EncoderError(
                f"{path}: not a readable CLIP checkpoint ({pickled_error})"
            ) from pickled_error


def _load_strict(visual: torch.nn.Module, state: dict[str, torch.Tensor], path: Path, model: str):
    own = visual.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing keys (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys (e.g. {unexpected[0]})")
        if wrong:
            k = wrong[0]
            parts.append(
                f"{len(wrong)} shape mismatches (e.g. {k}: file {tuple(state[k].shape)}, "
                f"model {tuple(own[k].shape)})"
            )
        raise EncoderError(
            f"{path}: does not fit the vision tower of open_clip model {model!r}: "
            + "; ".join(parts)
        )
    visual.load_state_dict(state, strict=True)


class ClipEncoder:
    """Frames (BGR uint8, any size) -> L2-normalised CLIP image embeddings ``(N, D)`` float32.

    Args:
        model: open_clip model name (``open_clip.list_models()``).
        checkpoint: local weights file, or ``"random"`` for a seeded random initialisation
            (explicitly asked for; there is no silent fallback). ``None`` is an error.
        device: ``"cpu"`` or ``"cuda"`` (the CUDA path is written but untested here).
        seed: seed of the random initialisation (ignored with a checkpoint file).
        batch_size: frames per forward pass in :meth:`encode`.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        checkpoint: str | Path | None = None,
        device: str = "cpu",
        seed: int = 0,
        batch_size: int = 16,
    ) -> None:
        if checkpoint is None:
            raise EncoderError(
                "no CLIP checkpoint given: pass a local weights file, or 'random' for an "
                "untrained encoder (tests/benchmarks only)"
            )
        check_model_name(model)
        self.model_name = model
        self.random_init = str(checkpoint) == RANDOM_INIT
        # absolute, so that a clusters file recording it works from any working directory
        self.checkpoint = RANDOM_INIT if self.random_init else str(Path(checkpoint).resolve())
        try:
            self.device = torch.device(device)
        except RuntimeError as err:
            raise EncoderError(f"invalid device {device!r} ({err})") from err
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise EncoderError(f"device {device!r} asked for, but CUDA is not available here")
        state = None if self.random_init else read_visual_state_dict(Path(checkpoint))
        with torch.random.fork_rng(devices=[]), _quiet_random_init():
            torch.manual_seed(seed)
            try:
                clip = open_clip.create_model(
                    model, pretrained=None, pretrained_image=False, pretrained_text=False
                )
            except ImportError as err:  # e.g. timm-based towers without timm installed
                raise EncoderError(
                    f"open_clip model {model!r} cannot be built here ({err})"
                ) from err
        self.visual: torch.nn.Module = clip.visual
        del clip  # the text tower is not needed
        if state is not None:
            _load_strict(self.visual, state, Path(checkpoint), model)
        #: identifies the weights, so clusters fitted with other weights are refused
        self.encoder_id = (
            f"random-init:seed={seed}" if self.random_init else file_fingerprint(Path(checkpoint))
        )
        self.visual.eval().to(self.device)
        # the CLIP embedding size (timm-based towers have no ``output_dim`` attribute)
        self.dim = int(open_clip.get_model_config(model)["embed_dim"])
        self.batch_size = int(batch_size)
        cfg = self.visual.preprocess_cfg
        # open_clip's own eval transform (resize shortest side, centre crop, CLIP mean/std)
        self._preprocess = open_clip.image_transform(
            cfg["size"],
            is_train=False,
            mean=cfg["mean"],
            std=cfg["std"],
            resize_mode=cfg["resize_mode"],
            interpolation=cfg["interpolation"],
        )

    def _tensor(self, frame_bgr: np.ndarray) -> torch.Tensor:
        if (
            not isinstance(frame_bgr, np.ndarray)
            or frame_bgr.dtype != np.uint8
            or frame_bgr.ndim != 3
            or frame_bgr.shape[2] != 3
            or min(frame_bgr.shape[:2]) == 0
        ):
            desc = (
                f"{frame_bgr.dtype} array of shape {frame_bgr.shape}"
                if isinstance(frame_bgr, np.ndarray)
                else type(frame_bgr).__name__
            )
            raise ValueError(f"expected a BGR uint8 image (H, W, 3), got {desc}")
        rgb = np.ascontiguousarray(frame_bgr[:, :, ::-1])
        return self._preprocess(Image.fromarray(rgb))

    @torch.inference_mode()
    def encode(self, frames_bgr: Sequence[np.ndarray]) -> np.ndarray:
        """Embeddings of ``frames_bgr``, in batches of ``batch_size``; ``(0, D)`` for none."""
        out = [np.zeros((0, self.dim), dtype=np.float32)]
        for start in range(0, len(frames_bgr), self.batch_size):
            batch = torch.stack(
                [self._tensor(f) for f in frames_bgr[start : start + self.batch_size]]
            )
            features = self.visual(batch.to(self.device)).float()
            out.append(F.normalize(features, dim=-1).cpu().numpy())
        return np.concatenate(out)
