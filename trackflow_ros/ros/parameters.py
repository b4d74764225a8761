"""Every tracker_node parameter: default, description, range, and whether it may change live.

Two groups share one flat namespace (as in ``config/tracker.yaml``):

- the node's own parameters (QoS, outputs, fallback intrinsics, diagnostics), ``NODE_PARAMS``;
- the pipeline's, one per field of ``trackflow_ros.pipeline.PipelineConfig`` with the same
  name. Their defaults, descriptions, ranges and choices come from the dataclass and its
  field ``metadata`` (so the two can never disagree), except the closed ranges of
  ``PIPELINE_RANGES`` here.

A parameter is *live* when a change applies to the next frame (thresholds, output switches).
The others (QoS, detector backend, weights, tracker, device...) shape objects built when the
node is configured; the node rejects changes to them while it is configured, with that reason,
and accepts them while unconfigured (lifecycle), to apply at the next ``configure``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    ParameterType,
)

Scalar = bool | int | float | str


@dataclass(frozen=True)
class ParamSpec:
    name: str
    default: Any
    description: str
    live: bool = False
    range: tuple[float, float] | None = None
    choices: tuple[str, ...] | None = None
    optional: bool = False  # the pipeline's default is None; "" stands for it here

    def descriptor(self) -> ParameterDescriptor:
        kind = _ros_type(self.default)
        text = self.description
        if self.choices:
            text += f" One of: {', '.join(self.choices)}."
        text += " Changes apply live." if self.live else " Fixed once the node is configured."
        desc = ParameterDescriptor(name=self.name, type=kind, description=text)
        if self.choices:
            desc.additional_constraints = f"one of {list(self.choices)}"
        if self.range is not None:
            lo, hi = self.range
            if kind == ParameterType.PARAMETER_INTEGER:
                desc.integer_range = [IntegerRange(from_value=int(lo), to_value=int(hi), step=0)]
            elif kind == ParameterType.PARAMETER_DOUBLE:
                desc.floating_point_range = [
                    FloatingPointRange(from_value=float(lo), to_value=float(hi), step=0.0)
                ]
        return desc

    def check(self, value: Any) -> str | None:
        """Why ``value`` is unacceptable (beyond type and range, which rclpy checks), or None."""
        if self.choices and value not in self.choices:
            return f"{self.name} must be one of {list(self.choices)}, got {value!r}"
        return None


def _ros_type(default: Any) -> int:
    if isinstance(default, bool):
        return ParameterType.PARAMETER_BOOL
    if isinstance(default, int):
        return ParameterType.PARAMETER_INTEGER
    if isinstance(default, float):
        return ParameterType.PARAMETER_DOUBLE
    if isinstance(default, str):
        return ParameterType.PARAMETER_STRING
    if isinstance(default, (list, tuple)):
        if all(isinstance(v, str) for v in default) and default:
            return ParameterType.PARAMETER_STRING_ARRAY
        if all(isinstance(v, int) and not isinstance(v, bool) for v in default) and default:
            return ParameterType.PARAMETER_INTEGER_ARRAY
        return ParameterType.PARAMETER_DOUBLE_ARRAY
    raise TypeError(f"no ROS parameter type for {default!r}")


NODE_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "autostart",
        True,
        "Configure and activate the lifecycle node at start-up (set false when a lifecycle "
        "manager drives it).",
    ),
    ParamSpec(
        "qos_reliability",
        "best_effort",
        "Reliability of the image, camera_info and detections subscriptions (sensor-data QoS). "
        "best_effort matches every publisher; reliable does not match best-effort publishers.",
        choices=("best_effort", "reliable"),
    ),
    ParamSpec(
        "qos_depth",
        1,
        "History depth of the input subscriptions. 1 = only the newest frame is ever kept.",
        range=(1, 100),
    ),
    ParamSpec(
        "camera_frame_id",
        "camera_optical_frame",
        "frame_id used for the outputs when an image's header has none (the camera optical "
        "frame, REP-103); otherwise the image's own frame_id is kept.",
        live=True,
    ),
    ParamSpec(
        "fallback_fx",
        0.0,
        "Fallback focal length fx (px) used until a valid camera_info arrives; 0 = not set.",
        live=True,
        range=(0.0, 100000.0),
    ),
    ParamSpec(
        "fallback_fy",
        0.0,
        "Fallback focal length fy (px); 0 = not set (both fx and fy are needed).",
        live=True,
        range=(0.0, 100000.0),
    ),
    ParamSpec(
        "fallback_cx",
        -1.0,
        "Fallback principal point x (px); negative = the image centre.",
        live=True,
        range=(-1.0, 100000.0),
    ),
    ParamSpec(
        "fallback_cy",
        -1.0,
        "Fallback principal point y (px); negative = the image centre.",
        live=True,
        range=(-1.0, 100000.0),
    ),
    ParamSpec(
        "publish_image",
        False,
        "Always publish the annotated image on tracks/image (it is also published whenever "
        "that topic has a subscriber).",
        live=True,
    ),
    ParamSpec("publish_markers", True, "Publish RViz markers on tracks/markers.", live=True),
    ParamSpec(
        "publish_detections3d",
        True,
        "Publish vision_msgs/Detection3DArray on tracks/detections3d (only where vision_msgs "
        "is installed).",
        live=True,
    ),
    ParamSpec(
        "diagnostics_period",
        1.0,
        "Period (s) of the DiagnosticArray on /diagnostics.",
        range=(0.1, 60.0),
    ),
    ParamSpec(
        "log_period",
        10.0,
        "Period (s) of the INFO log line with rates and latencies; 0 = never.",
        live=True,
        range=(0.0, 3600.0),
    ),
    ParamSpec(
        "debug_extra_latency_s",
        0.0,
        "TEST ONLY: sleep this long per frame on the worker thread, to simulate a slow "
        "pipeline (the drop-don't-queue tests use it). Keep 0 on a robot.",
        live=True,
        range=(0.0, 10.0),
    ),
)

# ROS parameter ranges are closed; where a PipelineConfig field's range is open at the bottom
# (``low_open``) or the node declares a narrower one, the declared range is given here. Every
# other pipeline field's range, and every description and choice list, comes from the field's
# metadata (PipelineConfig validates against the same metadata). Which fields may change live
# is the pipeline's ``LIVE_PARAMETERS`` (applied by ``Pipeline.reconfigure``).
PIPELINE_RANGES: dict[str, tuple[float, float]] = {
    "hog_upscale": (0.1, 8.0),
    "hog_scale": (1.001, 2.0),
    "hog_box_width_fraction": (0.01, 1.0),
    "hog_box_height_fraction": (0.01, 1.0),
    "person_height": (0.5, 2.5),
    "frame_rate": (0.1, 1000.0),
    "velocity_depth_rel_std": (0.0, 10.0),
    "velocity_lateral_rel_std": (0.0, 10.0),
}


def pipeline_param_specs(
    config_cls: type, live: frozenset[str] | None = None
) -> tuple[ParamSpec, ...]:
    """One ``ParamSpec`` per field of the pipeline's config dataclass; ``live``: the names
    that may change at run time (default: ``trackflow_ros.pipeline.LIVE_PARAMETERS``)."""
    if live is None:
        from trackflow_ros.pipeline import LIVE_PARAMETERS as live
    specs = []
    defaults = config_cls()
    for field in dataclasses.fields(config_cls):
        meta = dict(field.metadata)  # PipelineConfig's: description, low/high, choices
        default = getattr(defaults, field.name)
        optional = default is None
        if optional:
            default = ""  # ROS parameters have no null; an empty string means "not set"
        if isinstance(default, tuple):
            default = list(default)
        rng = PIPELINE_RANGES.get(field.name)
        if rng is None and isinstance(default, (int, float)) and not isinstance(default, bool):
            low, high = meta.get("low"), meta.get("high")
            if low is not None or high is not None:
                rng = (-1e9 if low is None else low, 1e9 if high is None else high)
        choices = meta.get("choices")
        description = meta.get("description")
        specs.append(
            ParamSpec(
                name=field.name,
                default=default,
                description=str(description or f"Pipeline setting {field.name}.").rstrip(".") + ".",
                live=field.name in live,
                range=tuple(rng) if rng is not None else None,
                choices=tuple(choices) if choices else None,
                optional=optional,
            )
        )
    return tuple(specs)


def all_param_specs() -> tuple[ParamSpec, ...]:
    from trackflow_ros.pipeline import PipelineConfig

    return (*NODE_PARAMS, *pipeline_param_specs(PipelineConfig))


# Declared by the node but left commented out in config/tracker.yaml (none at present).
COMMENTED_IN_PARAMS_FILE: frozenset[str] = frozenset()


def node_params_yaml() -> str:
    """The node's own parameters as commented params-file lines (indented for
    ``ros__parameters``); ``python -m trackflow_ros.ros.parameters`` prints them."""
    import textwrap

    import yaml

    lines = []
    for spec in NODE_PARAMS:
        text = spec.descriptor().description
        if spec.range is not None:
            text += f" Range: [{spec.range[0]}, {spec.range[1]}]."
        for line in textwrap.wrap(text, width=92):
            lines.append(f"    # {line}")
        value = yaml.safe_dump({spec.name: spec.default}, default_flow_style=True).strip()
        prefix = "# " if spec.name in COMMENTED_IN_PARAMS_FILE else ""
        lines.append(f"    {prefix}{value[1:-1]}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(node_params_yaml(), end="")
