"""``trackflow-export``: DistSynth to ONNX, for GPU / Jetson runtimes (ONNX Runtime, TensorRT).

The graph is the whole network of ``DistSynth.forward``, inputs preprocessed as in
``distsynth.py`` (``frame_tensor``, ``box_inputs``):

- ``clip``      float32 (1, T, 4, H, W): T frames of RGB + box-centre heatmap, oldest first;
- ``rois``      float32 (N, 5): [0, x1, y1, x2, y2] of the last frame's boxes, input pixels;
- ``geometry``  float32 (N, 11): ``box_geometry`` features;
- ``prior``     float32 (N,): pinhole distances in metres;

and the outputs are ``mean`` (N,) metres and ``log_var`` (N,) of the variance in m^2. T, H and
W are fixed at export (the checkpoint's clip length and input size unless overridden); N is
dynamic. It is exported with ``torch.onnx.export(dynamo=True)`` (torch.export + onnxscript);
``torchvision.ops.roi_align`` becomes the ONNX ``RoiAlign`` op. The checkpoint's config and
the clip length are stored in the model's metadata. ``check_onnx`` compares ONNX Runtime with
PyTorch on random inputs; the tests hold it to 1e-4 relative (mean) / 1e-4 absolute (log_var).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from trackflow_ros.distance.model import DistSynth, DistSynthWeightsError, load_checkpoint

INPUT_NAMES = ["clip", "rois", "geometry", "prior"]
OUTPUT_NAMES = ["mean", "log_var"]


def example_inputs(
    model: DistSynth, clip_length: int, n_boxes: int = 4, seed: int = 0
) -> tuple[torch.Tensor, ...]:
    """Random but plausible inputs: boxes inside the image, priors 3-40 m."""
    cfg = model.config
    g = torch.Generator().manual_seed(seed)
    w, h = cfg.input_width, cfg.input_height
    clip = torch.randn(1, clip_length, 4, h, w, generator=g)
    x1 = torch.rand(n_boxes, generator=g) * w * 0.8
    y1 = torch.rand(n_boxes, generator=g) * h * 0.6
    bw = 4 + torch.rand(n_boxes, generator=g) * w * 0.2
    bh = 8 + torch.rand(n_boxes, generator=g) * h * 0.4
    rois = torch.stack([torch.zeros(n_boxes), x1, y1, x1 + bw, y1 + bh], 1)
    geometry = torch.randn(n_boxes, 11, generator=g) * 0.5
    prior = 3 + torch.rand(n_boxes, generator=g) * 37
    return clip, rois, geometry, prior


def export_onnx(model: DistSynth, out: Path, clip_length: int | None = None) -> Path:
    """Write ``model`` (eval mode, float32, CPU) as ONNX with a dynamic number of boxes."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    model = model.float().cpu().eval()
    t = int(clip_length or model.config.clip_length)
    n = torch.export.Dim("n_boxes", min=1, max=4096)
    program = torch.onnx.export(
        model,
        example_inputs(model, t),
        str(out),
        input_names=INPUT_NAMES,
        output_names=OUTPUT_NAMES,
        dynamic_shapes={"clip": None, "rois": {0: n}, "geometry": {0: n}, "prior": {0: n}},
        dynamo=True,
        external_data=False,
        verbose=False,
    )
    import onnx

    proto = onnx.load(str(out)) if program is None else program.model_proto
    meta = {"distsynth_config": json.dumps(asdict(model.config)), "clip_length": str(t)}
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(out))
    return out


def check_onnx(model: DistSynth, onnx_path: Path, n_boxes: int = 7, seed: int = 1) -> dict:
    """Max deviations of ONNX Runtime (CPU) from PyTorch on random inputs (N != export's N)."""
    import onnx
    import onnxruntime as ort

    meta = {p.key: p.value for p in onnx.load(str(onnx_path)).metadata_props}
    t = int(meta.get("clip_length", model.config.clip_length))
    inputs = example_inputs(model.float().cpu().eval(), t, n_boxes, seed)
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = session.run(
        OUTPUT_NAMES, {k: v.numpy() for k, v in zip(INPUT_NAMES, inputs, strict=True)}
    )
    with torch.inference_mode():
        want = [x.numpy() for x in model(*inputs)]
    return {
        "mean_max_rel": float(np.max(np.abs(got[0] - want[0]) / np.abs(want[0]))),
        "log_var_max_abs": float(np.max(np.abs(got[1] - want[1]))),
        "n_boxes": n_boxes,
        "clip_length": t,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="trackflow-export", description="Export a DistSynth checkpoint to ONNX."
    )
    parser.add_argument("--weights", type=Path, required=True, help="DistSynth checkpoint")
    parser.add_argument("--out", type=Path, required=True, help="ONNX file to write")
    parser.add_argument("--clip-length", type=int, help="frames per clip (default: checkpoint's)")
    parser.add_argument("--no-check", action="store_true", help="skip the ONNX Runtime check")
    args = parser.parse_args(argv)
    try:
        model, _ = load_checkpoint(args.weights)
        export_onnx(model, args.out, args.clip_length)
        if not args.no_check:
            print(json.dumps(check_onnx(model, args.out)))
    except (DistSynthWeightsError, OSError) as exc:
        print(f"trackflow-export: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
