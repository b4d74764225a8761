"""Generated ROS 2 message -> plain Python dict, for logs, JSON and test diffs.

``rosidl_runtime_py`` (which has ``message_to_ordereddict``) is not among the PyPI wheels, and
the generated classes already describe their own fields, so a recursive walk is enough.
"""

from __future__ import annotations

from typing import Any


def message_to_dict(msg: Any) -> dict[str, Any]:
    """Every field of ``msg``, nested messages and message sequences included."""
    return {name: _value_to_plain(getattr(msg, name)) for name in msg.get_fields_and_field_types()}


def _value_to_plain(value: Any) -> Any:
    if hasattr(value, "get_fields_and_field_types"):
        return message_to_dict(value)
    if isinstance(value, (list, tuple)):
        return [_value_to_plain(v) for v in value]
    if hasattr(value, "tolist"):  # numpy-backed numeric arrays
        return value.tolist()
    return value
