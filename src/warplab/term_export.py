"""What a term declares about itself for export and sim-to-sim: plain Python, no torch.

ONNX export (``warplab.deploy.export``) and the sim-to-sim check (``warplab.deploy.sim2sim_model``)
learn what an observation or a fall termination means on a robot from these declarations, never
from a function's or a class's name. A plain function carries its declaration as the attribute
``term_export``, set by the decorator ``declares``; a term class sets the class attribute
``term_export`` (its kind's base class in ``warplab.envs.managers`` gives the default None). A term
that declares nothing is exported by its config alone (size, scale, clip, history) with no robot
signal, and is no fall condition.

This module imports nothing heavy, so the robot-side runtime and the sim-to-sim check can read a
declaration without the training stack.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

DECLARATION_ATTR = "term_export"
"""The attribute of a term function or class that holds its declaration."""


@dataclass(frozen=True)
class ObservationExport:
    """What an observation term reads on a robot.

    Attributes:
      signal: the robot signal the term is computed from, as ``warplab.deploy.Policy`` names them
        (``"joint_pos"``, ``"base_ang_vel"``, ``"height_scan"``...).
      joints: the term reads joints (its ``joints`` param; None: every hinge and slide joint), so
        export writes their names in order.
      relative_to_default: the value is joint positions minus the default pose, so export writes
        the default positions of those joints (rad or m).
      joint_ranges: the value depends on the joints' ranges (positions normalized to [-1, 1]), so
        export writes each joint's ``[low, high]`` (``jnt_range``, rad or m) as ``params["joint_range"]``.
      extra: ``extra(params) -> {key: JSON-able}``, more facts the robot needs, computed from the
        term's params (a height scan's grid of points, its clip; an object term's object and frame).
      elements: ``(kind, param)``: the term reads named model elements of ``kind`` (``"site"``,
        ``"sensor"``) given by ``params[param]`` (names or patterns), so export writes their names in
        the order the term reads them (the model's) under ``params[param]``, and for sensors their
        sizes as ``params["sensor_dims"]``.
      frame_pose: ``frame_pose(params) -> bool``: whether the term, with these params, relates the
        policy's object frame (a palm) to the world frame: a goal given in the world read in the
        palm frame, an object given in the palm frame read in the world. Where that frame moves (a
        palm on a wrist), a robot then gives the frame's current pose in the world at run time, and
        export names the terms that read it (``object_frame.pose_signal``). None: never.
      facts: ``facts(env, params) -> {key: JSON-able}``, facts read from the built env (its compiled
        model, its command terms) that ``extra`` cannot see from the params alone: an object's
        geoms, the frame of the goal a term reads. It raises ``ValueError`` naming the term's
        problem where the term cannot be computed on a robot.
    """

    signal: str
    joints: bool = False
    relative_to_default: bool = False
    joint_ranges: bool = False
    extra: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    elements: tuple[str, str] | None = None
    frame_pose: Callable[[Mapping[str, Any]], bool] | None = None
    facts: Callable[[Any, Mapping[str, Any]], dict[str, Any]] | None = None


@dataclass(frozen=True)
class FallExport:
    """A termination that means the robot fell, as a threshold a robot or a sim-to-sim check applies.

    Attributes:
      quantity: ``"min_base_height"`` (the base below ``params[param]`` m), ``"max_tilt_rad"`` (the
        base tilted more than ``params[param]`` rad from upright) or ``"joint_range"`` (a joint of
        ``params[joints_param]`` outside ``[params[low_param], params[high_param]]``, rad or m).
      param: the param holding the threshold (``min_base_height``, ``max_tilt_rad``).
    """

    quantity: Literal["min_base_height", "max_tilt_rad", "joint_range"]
    param: str = ""
    joints_param: str = "joints"
    low_param: str = "low"
    high_param: str = "high"


@dataclass(frozen=True)
class DropExport:
    """A termination that means the robot lost an object: the object farther than
    ``params[max_distance_param]`` m from a frame's origin, or its body origin lower than
    ``params[min_height_param]`` m in the world (either may be absent or None).

    Attributes:
      object_param: the param naming the object's body.
      frame_body_param, frame_site_param: the params naming the frame (a body or a site of the
        robot; neither: the world's).
    """

    object_param: str = "object"
    frame_body_param: str = "frame_body"
    frame_site_param: str = "frame_site"
    max_distance_param: str = "max_distance"
    min_height_param: str = "min_height"


@dataclass(frozen=True)
class SuccessCapExport:
    """A termination that ends a complete episode at the ``params[max_param]``-th success of the goal
    command ``params[command_param]`` (not a failure)."""

    command_param: str = "command_name"
    max_param: str = "max_successes"


Declaration = ObservationExport | FallExport | DropExport | SuccessCapExport
_F = TypeVar("_F", bound=Callable[..., Any])


def declares(declaration: Declaration) -> Callable[[_F], _F]:
    """Decorator: attaches ``declaration`` to a term function (``@declares(ObservationExport("joint_pos",
    joints=True))``). The function itself is returned unchanged: calling it costs nothing more."""

    def attach(func: _F) -> _F:
        setattr(func, DECLARATION_ATTR, declaration)
        return func

    return attach


def declared(term: Any) -> Declaration | None:
    """The declaration of a term function, term class or term instance, or None when it declares none."""
    value = getattr(term, DECLARATION_ATTR, None)
    return value if isinstance(value, (ObservationExport, FallExport, DropExport, SuccessCapExport)) else None
