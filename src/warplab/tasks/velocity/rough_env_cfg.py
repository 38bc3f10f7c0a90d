"""``humanoid-velocity-rough``: the project's humanoid tracks commanded velocities on generated terrain.

The velocity task of ``make_velocity_env_cfg`` with the flat floor replaced by a grid of terrain
tiles (``warplab.assets.terrain_generator``: rough ground, slopes and stairs up and down, stepping
stones, ten levels of difficulty) and three terms of ``warplab.envs.mdp.terrain``:

- the ``terrain_levels`` curriculum moves each world up a level when it walks off its tile and down
  when it covers less than half the distance its command asks for;
- each episode starts at the centre of the world's tile (``reset_root_on_terrain``);
- the critic sees a height scan, 1.6 m x 1.0 m around the base every 0.1 m (187 rays). The policy
  of ``humanoid-velocity-rough`` stays blind: it walks on what its joints and IMU feel, as a robot
  without a depth camera must. ``humanoid-velocity-rough-scan`` (``make_humanoid_rough_scan_env_cfg``)
  gives the policy the same scan, with the imperfections of a real elevation map in training.

Commands are forward speed in [0, 1] m/s and yaw rate in [-1, 1] rad/s, without lateral speed:
sideways steps on stairs and stones are hard to learn and rarely needed (Isaac Lab's rough-terrain
humanoids do the same). A fall is judged by the base's height above the ground under it, not above
z = 0, since the spawn points lie from 1.2 m below to 1.2 m above it.

Play mode builds a small terrain: one tile of each type at the middle difficulty.
"""

from __future__ import annotations

import dataclasses

from warplab.assets.robot_cfg import RobotCfg, build_robot_spec
from warplab.assets.robots.humanoid import HUMANOID_ROBOT_CFG
from warplab.assets.terrain import add_sky_and_lights
from warplab.assets.terrain_generator import (
    TERRAIN_TYPES,
    TerrainCfg,
    add_terrain,
    cached_terrain,
)
from warplab.envs import mdp
from warplab.envs.config import (
    CurriculumTermCfg,
    EventTermCfg,
    NoiseCfg,
    ObservationTermCfg,
    RlEnvCfg,
    TerminationTermCfg,
)
from warplab.envs.mdp.terrain import (
    HeightScan,
    RootHeightAboveTerrainBelow,
    TerrainLevels,
    reset_root_on_terrain,
)
from warplab.tasks.velocity.env_cfg import make_velocity_env_cfg

NCONMAX = 48
"""Contacts per world (MuJoCo Warp pools ``NCONMAX * num_envs`` for all worlds). With random actions
on the hardest levels (16 worlds on the CPU, 46 falls) the humanoid made at most 10 contacts in a
world, 4 on average; that is about 2x headroom over the most, as the flat task's probe gives, plus
room for capsules, which meet a height field at up to 4 points (2 on a plane). Not sized by the
capacity probe: MuJoCo's C engine keeps up to 50 contacts per (height field, geom) pair where MuJoCo
Warp keeps 4, so the probe asks for several times more than is ever written."""
SCAN_CLIP: tuple[float, float] = (-1.0, 1.0)
"""The height scan's clip, m: from 1 m below the base to 1 m above it."""
SCAN_PARAMS = {"size": (1.6, 1.0), "resolution": 0.1, "clip": SCAN_CLIP}
"""The height scan's grid and clip (m), the critic's and the scanning policy's."""
SCAN_NOISE_M = 0.02
"""Half-width of the uniform per-point noise on the policy's scan, m (an elevation map's jitter)."""
SCAN_DELAY_STEPS = 1
"""Policy steps (0.02 s each) the policy's scan lags behind: a mapping pipeline's latency."""
SCAN_DROPOUT_PROB = 0.05
"""Share of the policy's scan points read as missed returns (``clip[1]``) at each step."""
SCAN_OFFSET_M = 0.03
"""Half-width of each episode's constant offset of the policy's scan, m (a mis-calibrated sensor)."""
NJMAX = 192
"""Constraint rows per world, a hard limit per world: the same rollouts needed at most 41 (4 rows per
contact with the pyramidal cone and condim 3, and the joint limits); 4 x ``NCONMAX``."""

BOX_NCONMAX = 64
"""Contacts per world on the box terrain. A foot box on a box makes up to 8 contacts (MuJoCo's
box-box collision), 16 across the seam of two boxes. With random actions on stairs and stones
(levels 5 and 9, 12 worlds, 150 steps, CPU) the humanoid made at most 8 in a world, 3.3 on average,
and 32 constraint rows; 64 leaves room for both feet on seams (32) and the shins."""
BOX_NJMAX = 256
"""Constraint rows per world on the box terrain: 4 x ``BOX_NCONMAX``."""


def rough_terrain_cfg(play: bool = False, representation: str = "hfield") -> TerrainCfg:
    """The training terrain (10 levels x 20 columns of 8 m tiles), or in play mode one tile of each
    type at the middle difficulty with a 4 m border; ``representation`` as ``TerrainCfg``'s."""
    if representation not in ("hfield", "boxes"):
        raise ValueError(f"the terrain representation must be 'hfield' or 'boxes', got {representation!r}")
    # The task's scans read the height grid, so the box terrain drops the ray copies: half the geoms
    # for MuJoCo Warp's put_model, which lists every pair of geoms (docs/terrain.md).
    copies = representation == "hfield"
    if not play:
        return TerrainCfg(representation=representation, ray_copies=copies)  # type: ignore[arg-type]
    return TerrainCfg(
        representation=representation,  # type: ignore[arg-type]
        ray_copies=copies,
        num_levels=1,
        num_cols=len(TERRAIN_TYPES),
        border_width=4.0,
        proportions=dict.fromkeys(TERRAIN_TYPES, 1.0),
        difficulty_range=(0.5, 0.5),
    )


def make_humanoid_rough_env_cfg(play: bool = False, terrain_representation: str = "hfield") -> RlEnvCfg:
    """Forward speed in [0, 1] m/s and yaw rate in [-1, 1] rad/s on generated terrain; 20 s episodes.

    ``terrain_representation``: ``"hfield"`` (height fields only) or ``"boxes"`` (stairs, stepping
    stones, flat tiles and the border as static boxes; ``humanoid-velocity-rough-boxes``), with
    contact capacity sized for each (``NCONMAX``/``NJMAX``, ``BOX_NCONMAX``/``BOX_NJMAX``).

    The ``TerrainCfg`` is ``curriculum["terrain_levels"].params["terrain"]``; the scene reads the same
    object when the env is built, so a change to it (``--env.curriculum.terrain_levels.params...``)
    changes both.
    """
    robot = HUMANOID_ROBOT_CFG
    cfg = make_velocity_env_cfg(robot, play)
    terrain = rough_terrain_cfg(play, terrain_representation)
    boxes = terrain.representation == "boxes"
    add_rough_terrain(
        cfg,
        robot,
        terrain,
        nconmax=BOX_NCONMAX if boxes else NCONMAX,
        njmax=BOX_NJMAX if boxes else NJMAX,
    )
    command = cfg.commands["base_velocity"].params
    command["lin_vel_x"], command["lin_vel_y"] = (0.0, 1.0), (0.0, 0.0)
    return cfg


def add_rough_terrain(cfg: RlEnvCfg, robot: RobotCfg, terrain: TerrainCfg, nconmax: int, njmax: int) -> None:
    """Moves the velocity task ``cfg`` of ``robot`` from flat ground onto ``terrain``, in place.

    The scene becomes ``robot`` with the terrain (Newton capped at 10 iterations and 20 line-search
    iterations, as on flat ground; a caller that sets other physics options wraps ``cfg.scene``
    afterwards); contact capacity ``nconmax`` contacts and ``njmax`` constraint rows per world; the
    ``terrain_levels`` curriculum (start levels up to 5); the critic's height scan read from the
    terrain's grid (``SCAN_PARAMS``); the base reset moved to the spawn points; falls judged above the
    ground under the base. Commands are left as they are.
    """

    def scene():
        spec = build_robot_spec(robot)
        add_sky_and_lights(spec)
        add_terrain(spec, terrain, cached_terrain(terrain))
        # As on flat ground: Newton converges in a few iterations on legged robots.
        spec.option.iterations = 10
        spec.option.ls_iterations = 20
        return spec

    cfg.scene = scene
    cfg.sim = dataclasses.replace(cfg.sim, nconmax=nconmax, njmax=njmax)
    cfg.curriculum["terrain_levels"] = CurriculumTermCfg(
        func=TerrainLevels, params={"terrain": terrain, "command_name": "base_velocity", "max_init_level": 5}
    )
    # Read from the terrain's height grid: the surface the rays would hit (tested), without casting
    # 187 rays per world at every height field twice a step (on the CPU that was 40 % of the step).
    cfg.observations["critic"].terms["height_scan"] = ObservationTermCfg(
        func=HeightScan, params={**SCAN_PARAMS, "terrain": terrain}
    )
    # The scan reads the base's pose from the forward pass: a reset world's first scan needs it.
    cfg.reset_forward = "positions_velocities"
    _replace_spawn_events(cfg)
    _replace_fall_terminations(cfg, terrain)


def make_humanoid_rough_boxes_env_cfg(play: bool = False) -> RlEnvCfg:
    """``make_humanoid_rough_env_cfg`` on the box terrain (``terrain_representation="boxes"``)."""
    return make_humanoid_rough_env_cfg(play, terrain_representation="boxes")


def _replace_spawn_events(cfg: RlEnvCfg) -> None:
    # The flat task's base reset, wherever it sits and whatever its ranges, moved to the terrain.
    spawns = [name for name, e in cfg.events.items() if e.func is mdp.reset_root_state_uniform]
    if not spawns:
        raise ValueError(
            "make_velocity_env_cfg has no reset_root_state_uniform event to move onto the terrain; "
            f"its events are {sorted(cfg.events)}"
        )
    for name in spawns:
        params = {**cfg.events[name].params, "curriculum_name": "terrain_levels"}
        cfg.events[name] = EventTermCfg(func=reset_root_on_terrain, mode="reset", params=params)


def _replace_fall_terminations(cfg: RlEnvCfg, terrain: TerrainCfg) -> None:
    # Heights above z = 0 mean nothing on terrain that spans +-1.2 m: measure above the ground.
    for name, term in list(cfg.terminations.items()):
        if term.func is mdp.root_height_below:
            cfg.terminations[name] = TerminationTermCfg(
                func=RootHeightAboveTerrainBelow,
                params={"minimum_height": term.params["minimum_height"], "terrain": terrain},
            )


def make_humanoid_rough_scan_env_cfg(play: bool = False) -> RlEnvCfg:
    """``make_humanoid_rough_env_cfg`` with the height scan in the policy's observation too.

    The policy's scan is the critic's (187 points, heading frame, clipped to +-1 m), last in its
    observation; in training it is corrupted as a robot's elevation map is (``HeightScan``'s
    options): uniform noise of ``SCAN_NOISE_M`` per point, a delay of ``SCAN_DELAY_STEPS`` policy
    steps, ``SCAN_DROPOUT_PROB`` of the points missed, a per-episode offset within +-``SCAN_OFFSET_M``.
    Play mode sees the clean scan. The exported policy reads the ``height_scan`` signal (see
    docs/deployment.md); none of the corruptions is exported. The critic keeps its clean scan.
    """
    cfg = make_humanoid_rough_env_cfg(play)
    add_policy_height_scan(cfg, play)
    return cfg


def add_policy_height_scan(cfg: RlEnvCfg, play: bool = False) -> None:
    """Adds the critic's height scan (of a config built by ``add_rough_terrain``) to the policy's
    observation, last, in place; in training with the imperfections ``make_humanoid_rough_scan_env_cfg``
    describes, clean in play mode."""
    terrain = cfg.curriculum["terrain_levels"].params["terrain"]
    params = {**SCAN_PARAMS, "terrain": terrain}
    if not play:
        params.update(
            delay_steps=SCAN_DELAY_STEPS,
            dropout_prob=SCAN_DROPOUT_PROB,
            offset_range=(-SCAN_OFFSET_M, SCAN_OFFSET_M),
        )
    cfg.observations["policy"].terms["height_scan"] = ObservationTermCfg(
        func=HeightScan,
        params=params,
        noise=None if play else NoiseCfg("uniform", SCAN_NOISE_M),
        # The noise may push a reading past the scan's own clip: clip again, as the robot's runtime does.
        clip=SCAN_CLIP,
    )
