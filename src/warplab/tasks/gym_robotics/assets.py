"""Gymnasium-Robotics' model files, read from the installed package at run time (never copied here).

``pip install "warplab[robotics]"`` installs ``gymnasium-robotics``, whose wheel ships the Shadow
hand's MJCF and meshes (``envs/assets/hand/``, ``envs/assets/stls/hand/``). The package is imported
only when a scene is built, so that listing tasks and building configs work without it.
"""

from __future__ import annotations

import os
from xml.sax.saxutils import quoteattr

import mujoco


class RoboticsNotInstalledError(ImportError):
    """``gymnasium-robotics`` is not installed; the message says how to install it."""


def robotics_assets_dir() -> str:
    """The folder of Gymnasium-Robotics' model files (``.../gymnasium_robotics/envs/assets``).

    Raises:
      RoboticsNotInstalledError: the package is missing (one line saying how to install it).
    """
    try:
        import gymnasium_robotics  # type: ignore[import-untyped]
    except ImportError as exc:
        raise RoboticsNotInstalledError(
            f"this task loads its model from the gymnasium-robotics package, which is not installed "
            f'({exc}); install it with: pip install "warplab[robotics]"'
        ) from exc
    return os.path.join(os.path.dirname(gymnasium_robotics.__file__), "envs", "assets")


def robotics_asset_path(relative: str) -> str:
    """Absolute path of ``relative`` (e.g. ``"hand/manipulate_block.xml"``) in the package's assets.

    Raises:
      RoboticsNotInstalledError: the package is missing.
      FileNotFoundError: the file is not in the installed version, naming the path looked at.
    """
    path = os.path.join(robotics_assets_dir(), *relative.split("/"))
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{relative} is not in the installed gymnasium-robotics ({path} is missing); warplab "
            'expects gymnasium-robotics 1.4.x: pip install "warplab[robotics]"'
        )
    return path


def hand_block_spec() -> mujoco.MjSpec:
    """Gymnasium-Robotics' ``hand/manipulate_block.xml`` as it is: the Shadow hand, the block
    (``object``, free joint) and the goal marker (``target``, free joint, no collisions).

    No edit is needed for MuJoCo Warp 4.0 (checked against MuJoCo's C engine in
    ``tests/tasks/test_hand_block_vs_gymnasium_robotics.py``): the model already asks for the
    Newton solver (MuJoCo's default; 20 iterations), the Euler integrator and the pyramidal cone, and
    its geoms (capsules, boxes, a convex forearm mesh, a plane), fixed tendons with limits, contact
    pairs and position actuators all run in MuJoCo Warp. Its ``<size njmax nconmax>`` are ignored:
    warplab sizes contacts and constraints from a probe of the model. The ``target`` body only
    shows the goal when the package renders (it moves it there first); between renders it falls
    under gravity through everything, in the package and here alike, which changes nothing the
    task observes.
    """
    return mujoco.MjSpec.from_file(robotics_asset_path("hand/manipulate_block.xml"))


def shadow_hand_spec() -> mujoco.MjSpec:
    """The Shadow hand alone, as Gymnasium-Robotics' scenes include it: ``hand/robot.xml`` (the
    bodies) with ``hand/shared.xml`` (defaults, contact pairs, the coupling tendons of the finger
    joints, sensors, the 20 position actuators) and ``hand/shared_asset.xml`` (meshes, materials),
    and the scenes' options (2 ms timestep, 20 solver iterations, warm start). No floor and no object:
    a task adds its own.

    ``robot.xml`` is a fragment meant for inclusion, so the spec is composed from the three files by
    absolute path; the wrist is mounted at (1, 1.25, 0.15) m, as in the package's scenes.
    """
    hand_dir = os.path.dirname(robotics_asset_path("hand/robot.xml"))
    paths = {
        name: quoteattr(os.path.join(hand_dir, name))
        for name in ("robot.xml", "shared.xml", "shared_asset.xml")
    }
    meshdir = quoteattr(os.path.join(hand_dir, os.pardir, "stls", "hand"))
    texturedir = quoteattr(os.path.join(hand_dir, os.pardir, "textures"))
    xml = f"""<mujoco model="shadow_hand">
  <compiler angle="radian" coordinate="local" meshdir={meshdir} texturedir={texturedir}/>
  <option timestep="0.002" iterations="20"><flag warmstart="enable"/></option>
  <include file={paths["shared.xml"]}/>
  <asset><include file={paths["shared_asset.xml"]}/></asset>
  <worldbody><include file={paths["robot.xml"]}/></worldbody>
</mujoco>"""
    return mujoco.MjSpec.from_string(xml)


ADROIT_HAND_ACTUATORS = ("A_WRJ1", "A_WRJ0", "A_FFJ3", "A_THJ0")
"""The first and last of the wrist's and the fingers' actuators (in model order, ``A_WRJ1`` ..
``A_WRJ0`` and ``A_FFJ3`` .. ``A_THJ0``), whose gains the package's Adroit envs set when built."""


def adroit_spec(task: str) -> mujoco.MjSpec:
    """Gymnasium-Robotics' Adroit scene ``adroit_hand/adroit_<task>.xml`` (``"door"``,
    ``"relocate"``...) with the actuator gains the package's Adroit envs write into the compiled
    model when they are built ("change actuator sensitivity"): the wrist's two position servos
    ``gainprm[:3] = (10, 0, 0)``, ``biasprm[:3] = (0, -10, 0)`` (kp 10 N·m/rad), the 22 finger
    servos ``(1, 0, 0)`` and ``(0, -1, 0)`` (kp 1). The files already hold those values in
    gymnasium-robotics 1.4.2; writing them here keeps the package's model should a file change.

    No other edit is needed for MuJoCo Warp 4.0: the scene's options (2 ms timestep, Newton with
    20 iterations, 20 noslip iterations, Euler) run as they are, checked against MuJoCo's C engine
    in ``tests/tasks/test_adroit_vs_gymnasium_robotics.py``.

    Raises:
      RoboticsNotInstalledError: the package is missing.
      FileNotFoundError: the scene is not in the installed version.
    """
    spec = mujoco.MjSpec.from_file(robotics_asset_path(f"adroit_hand/adroit_{task}.xml"))
    names = [actuator.name for actuator in spec.actuators]
    wrist_first, wrist_last, finger_first, finger_last = (names.index(n) for n in ADROIT_HAND_ACTUATORS)
    for first, last, kp in ((wrist_first, wrist_last, 10.0), (finger_first, finger_last, 1.0)):
        for actuator in spec.actuators[first : last + 1]:
            actuator.gainprm[:3] = [kp, 0.0, 0.0]
            actuator.biasprm[:3] = [0.0, -kp, 0.0]
    return spec


def adroit_door_spec() -> mujoco.MjSpec:
    """``adroit_hand/adroit_door.xml`` (``adroit_spec``): the 30-DoF Adroit arm and hand (a slide
    and three hinges of the arm, 24 hand joints) before a door on a hinge (``door_hinge``) with a
    latch (``latch``), the door's frame a body welded to the world (``frame``)."""
    return adroit_spec("door")


def adroit_relocate_spec() -> mujoco.MjSpec:
    """``adroit_hand/adroit_relocate.xml`` (``adroit_spec``): the Adroit arm and hand (three slides
    and three hinges of the arm, 24 hand joints), a ball (``Object``, three slides and three hinges)
    on a table and the target (the site ``target``)."""
    return adroit_spec("relocate")


FETCH_WELD_DATA = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0)
"""The mocap weld's anchor, relative position and relative orientation (w, x, y, z) after the
package's ``reset_mocap_welds``: it writes ``eq_data[:7] = (0, 0, 0, 0, 0, 0, 1)`` into the compiled
model, which zeroes the relative position the compiler had taken from the home pose and leaves the
identity orientation; the gripper is then held exactly at the mocap body's pose."""


def fetch_spec(task: str = "pick_and_place") -> mujoco.MjSpec:
    """Gymnasium-Robotics' Fetch scene ``fetch/<task>.xml`` (``"pick_and_place"``, ``"push"``...)
    with the mocap weld as the package's envs set it when built (``FETCH_WELD_DATA``).

    The scene: the Fetch robot (base on three slides, torso lift, head, 7-joint arm, two finger
    slides with position servos, kp 30,000 N/m, targets in [0, 0.2] m), a mocap body
    ``robot0:mocap`` welded to ``robot0:gripper_link``, a table and, for pick-and-place, a 5 cm,
    2 kg block (``object0``, free joint) with a site at its centre; 2 ms timestep, Newton solver
    with 100 iterations, pyramidal cone, Euler. It runs in MuJoCo Warp 4.0 as it is (convex mesh,
    box and plane geoms; checked against MuJoCo's C engine in
    ``tests/tasks/test_fetch_vs_gymnasium_robotics.py``).

    Raises:
      RoboticsNotInstalledError: the package is missing.
      FileNotFoundError: the scene is not in the installed version.
    """
    spec = mujoco.MjSpec.from_file(robotics_asset_path(f"fetch/{task}.xml"))
    welds = [eq for eq in spec.equalities if eq.type == mujoco.mjtEq.mjEQ_WELD]
    if len(welds) != 1:
        raise ValueError(f"fetch/{task}.xml: expected one mocap weld, found {len(welds)} welds")
    welds[0].data[: len(FETCH_WELD_DATA)] = FETCH_WELD_DATA
    return spec


def fetch_pick_and_place_spec() -> mujoco.MjSpec:
    """``fetch/pick_and_place.xml`` (``fetch_spec``): the Fetch robot, a table and a block."""
    return fetch_spec("pick_and_place")


def kitchen_spec() -> mujoco.MjSpec:
    """Gymnasium-Robotics' Franka kitchen ``kitchen_franka/kitchen_assets/kitchen_env_model.xml`` as
    it is: the Franka Panda (7 arm hinges ``robot:panda0_joint1..7``, 2 finger slides, 9 position
    servos) on a pedestal before a kitchen of articulated props (4 oven knobs with their burners
    coupled by joint equalities, a light switch, a slide cabinet, two hinge cabinets, a microwave
    door on the hinge ``microwave``, qpos 22) and a kettle on a free joint: nq 30, nv 29; 2 ms
    timestep, Newton with 100 iterations, Euler, pyramidal cone (MuJoCo's defaults). It runs in
    MuJoCo Warp 4.0 as it is (mesh, box, cylinder, capsule, sphere and plane geoms; checked against
    MuJoCo's C engine in ``tests/tasks/test_kitchen_vs_gymnasium_robotics.py``); its ``<size njmax
    nconmax>`` are ignored: warplab sizes contacts and constraints from a probe of the model.

    Raises:
      RoboticsNotInstalledError: the package is missing.
      FileNotFoundError: the scene is not in the installed version.
    """
    return mujoco.MjSpec.from_file(robotics_asset_path("kitchen_franka/kitchen_assets/kitchen_env_model.xml"))


def kitchen_franka_spec() -> mujoco.MjSpec:
    """The kitchen's Franka alone, composed as the kitchen scene includes it: ``franka_assets/
    assets.xml`` (2 ms timestep, defaults, meshes), ``actuator.xml`` (the 9 position servos) and
    ``chain.xml`` (the arm's bodies), the arm's base at (0, 0, 1.8) m turned 1.57 rad about z as
    in the kitchen. No pedestal, no floor and no props: a scene adds its own.

    Raises:
      RoboticsNotInstalledError: the package is missing.
      FileNotFoundError: the files are not in the installed version.
    """
    franka_dir = os.path.dirname(robotics_asset_path("kitchen_franka/franka_assets/chain.xml"))
    paths = {name: quoteattr(os.path.join(franka_dir, name)) for name in ("assets.xml", "actuator.xml")}
    chain = quoteattr(os.path.join(franka_dir, "chain.xml"))
    # The files name their meshes relative to the kitchen scene's folder; an absolute meshdir set
    # after the include overrides the one assets.xml carries.
    meshdir = quoteattr(os.path.join(franka_dir, "meshes"))
    xml = f"""<mujoco model="kitchen_franka">
  <include file={paths["assets.xml"]}/>
  <include file={paths["actuator.xml"]}/>
  <compiler angle="radian" meshdir={meshdir}/>
  <worldbody>
    <body name="panda0_mount" pos="0 0 1.8" euler="0 0 1.57"><include file={chain}/></body>
  </worldbody>
</mujoco>"""
    return mujoco.MjSpec.from_string(xml)
