"""The RL environment: ``num_envs`` worlds stepped together, built from an ``RlEnvCfg``.

One call to ``step``:

1. validate the action, hand it to the action terms, write controls;
2. ``decimation`` physics substeps (one CUDA graph), then the divergence guard;
3. terminations (``terminated`` and ``truncated`` apart) and rewards;
4. commands and interval events advance;
5. observations of every world: for finished worlds these are the terminal observations;
6. finished worlds reset, by mask: curricula, physics state, reset events, the forward pass that
   ``cfg.reset_forward`` asks for (none where nothing reads it), every manager;
7. observations again, taken for the reset worlds only.

``RlEnv._step_worlds`` is that list in code; ``reset`` runs the same reset (6-7) for every world.
The managers' torch work between the Warp calls sits in phases (``warplab.envs.step_phases``);
with ``cfg.compile_managers`` each is compiled with ``torch.compile`` into a few fused kernels
(``warplab.envs.compiled``).

Everything stays on the device; nothing in ``step`` reads a value back to the host. On CUDA the
whole step is captured once as a CUDA graph and replayed (``warplab.envs.step_graph``).
"""

from __future__ import annotations

import copy

import mujoco
import torch

from warplab.envs import env_state, physical_state, step_phases
from warplab.envs.cfg_checks import check_env_cfg_numbers, episode_steps
from warplab.envs.compiled import compile_phases, compiles_managers, parse_compile_managers
from warplab.envs.config import RlEnvCfg
from warplab.envs.episode_stats import EpisodeStats
from warplab.envs.managers import (
    ActionManager,
    CommandManager,
    CurriculumManager,
    EventManager,
    ObservationManager,
    RewardManager,
    TerminationManager,
)
from warplab.envs.managers.term import ConfigError
from warplab.envs.reset_forward import reset_forward_changes
from warplab.envs.scene_index import SceneIndex
from warplab.envs.step_graph import StepGraph, graph_step_enabled
from warplab.sim import Simulation
from warplab.sim.stability import check_timestep


def _build_model(cfg: RlEnvCfg) -> mujoco.MjModel:
    model = cfg.scene()
    if isinstance(model, mujoco.MjSpec):
        if cfg.timestep is not None:
            model.option.timestep = cfg.timestep
        return model.compile()
    if isinstance(model, mujoco.MjModel):
        if cfg.timestep is not None:
            model.opt.timestep = cfg.timestep
        return model
    raise ConfigError(f"RlEnvCfg.scene must return a mujoco.MjSpec or MjModel, got {type(model).__name__}")


RESET_FORWARD_CHOICES = ("full", "positions_velocities", "none")
"""The values of ``RlEnvCfg.reset_forward``."""


def validate_cfg(cfg: RlEnvCfg) -> None:
    """Raises ``ConfigError`` naming the first invalid field of ``cfg``: every number it holds (no
    NaN, no infinity but a clip bound, 32-bit integers, each field's range; ``cfg_checks``), the
    scene, the compile and reset-forward settings."""
    check_env_cfg_numbers(cfg)
    if not callable(cfg.scene):
        raise ConfigError("RlEnvCfg.scene must be a function returning a mujoco.MjSpec or MjModel")
    parse_compile_managers(cfg.compile_managers)
    if cfg.reset_forward not in RESET_FORWARD_CHOICES:
        raise ConfigError(
            f"RlEnvCfg.reset_forward must be one of {list(RESET_FORWARD_CHOICES)}, got {cfg.reset_forward!r}"
        )


class RlEnv:
    """A batch of ``num_envs`` environments on one device (see the module docstring for one step).

    Attributes:
      num_envs: number of worlds.
      device: torch device of every tensor.
      action_dim: size of the action vector.
      observation_shapes: ``{group: shape}`` of each observation group.
      policy_dt: time between policy steps, s.
      max_episode_length: policy steps after which an episode is truncated.
      sim: the ``Simulation``.
      rng: the ``torch.Generator`` every random draw of the env uses (seeded by ``cfg.seed``).
    """

    def __init__(self, cfg: RlEnvCfg):
        validate_cfg(cfg)
        self.cfg = copy.copy(cfg)
        model = _build_model(cfg)
        # Refused before any device work: a timestep the model cannot be stable at (warplab.sim.stability).
        check_timestep(model, "RlEnvCfg.timestep (--env.timestep)", error=ConfigError)
        self.sim = Simulation(model, cfg.num_envs, cfg.device, cfg.sim)
        self.mj_model = self.sim.mj_model
        self.num_envs = cfg.num_envs
        self.device = self.sim.device
        self.index = SceneIndex(self.mj_model, self.device)
        if cfg.init_keyframe is not None:
            self._use_keyframe(cfg.init_keyframe)
        self.rng = torch.Generator(device=self.device)
        self.rng.manual_seed(cfg.seed)
        self.physics_dt = self.sim.timestep
        self.policy_dt = cfg.decimation * self.physics_dt
        self.max_episode_length = episode_steps(cfg.episode_length_s, self.policy_dt)
        n = self.num_envs
        self.episode_length_buf = torch.zeros(n, dtype=torch.long, device=self.device)
        """Policy steps taken in each world's current episode ``[num_envs]``."""
        self.common_step_counter = 0
        """Policy steps taken since construction (same for all worlds; a Python int)."""
        self.step_count = torch.zeros((), dtype=torch.long, device=self.device)
        """``common_step_counter`` on the device: what terms read inside the step, where a Python
        value would be frozen by the step's CUDA graph."""
        self.reset_buf = torch.zeros(n, dtype=torch.bool, device=self.device)

        # Managers, in the order their terms may depend on each other.
        self.command_manager = CommandManager(cfg.commands, self)
        self.action_manager = ActionManager(cfg.actions, self)
        self.event_manager = EventManager(cfg.events, self)
        self.curriculum_manager = CurriculumManager(cfg.curriculum, self)
        self.reward_manager = RewardManager(cfg.rewards, self)
        self.termination_manager = TerminationManager(cfg.terminations, self)
        self.observation_manager = ObservationManager(cfg.observations, self)
        self.action_dim = self.action_manager.action_dim
        self.stats = EpisodeStats(self)
        self._per_substep_actions = self.action_manager.per_substep
        self._interval_events = self.event_manager.has("interval")

        self._plain_phases = step_phases.StepPhases.bind(self)
        if self.event_manager.has("startup"):
            self.event_manager.apply("startup", torch.ones(n, dtype=torch.bool, device=self.device))
        if cfg.reset_forward == "none":
            self._check_reset_forward_unread()
        self._obs = self._reset_all()
        self.observation_shapes = {g: tuple(v.shape[1:]) for g, v in self._obs.items()}
        auto = parse_compile_managers(cfg.compile_managers) is None
        self.compiles_managers = compiles_managers(cfg.compile_managers, self.device, cfg.debug)
        """Whether the step's torch phases are compiled (``cfg.compile_managers`` resolved for this device)."""
        self._phases = (
            compile_phases(self._plain_phases, self, fall_back=auto)
            if self.compiles_managers
            else self._plain_phases
        )
        self._step_graph = StepGraph(self, self._step_worlds) if graph_step_enabled(self) else None

    # ------------------------------------------------------------------ public API
    def reset(self, seed: int | None = None) -> tuple[dict[str, torch.Tensor], dict]:
        """Resets every world. ``seed`` reseeds the env's generator first.

        Returns:
          obs: ``{group: [num_envs, dim]}``; info: ``{}``.
        """
        if seed is not None:
            self.rng.manual_seed(int(seed))
        self._obs = self._reset_all()
        return self._obs, {}

    def step(self, action: torch.Tensor):
        """Advances every world by one policy step.

        Args:
          action: ``[num_envs, action_dim]`` floating-point tensor.

        Returns:
          obs ``{group: [num_envs, dim]}`` (for finished worlds, the first observation of the next
          episode), reward ``[num_envs]`` float32, terminated ``[num_envs]`` bool, truncated
          ``[num_envs]`` bool, info with ``final_obs`` (``{group: [num_envs, dim]}``: the terminal
          observation where a world finished, else equal to ``obs``). ``terminated`` and
          ``truncated`` are the env's own buffers, overwritten by the next step; the other tensors
          are new at each step.
        """
        self.action_manager.validate(action)
        if self._step_graph is None:
            obs, reward, terminated, truncated, final_obs = self._step_worlds(action)
        else:
            obs, reward, terminated, truncated, final_obs = self._step_graph.step(action)
            if self._step_graph.captured:
                # The graph's outputs are overwritten by its next replay: hand out copies.
                obs = {g: t.clone() for g, t in obs.items()}
                final_obs = {g: t.clone() for g, t in final_obs.items()}
        # The reward is the reward manager's buffer, written again by the next step.
        reward = reward.clone()
        self.common_step_counter += 1
        self._obs = obs
        info = {"final_obs": final_obs} if self.cfg.final_observation else {}
        return obs, reward, terminated, truncated, info

    def _step_worlds(self, action: torch.Tensor):
        """The step itself, every world at once: the device work of ``step``, with no host sync and
        no Python state changed, so that a CUDA graph can record it (``warplab.envs.step_graph``).

        Between the Warp calls (physics, the state reset, the forward pass) the managers' torch
        work runs in phases (``warplab.envs.step_phases``), plain or compiled."""
        phases, decimation = self._phases, self.cfg.decimation
        # 1-2. The action terms write the controls; the physics advances decimation substeps.
        if self._per_substep_actions:  # a term recomputes its controls at every substep
            phases.process_actions(action)
            for _ in range(decimation):
                phases.apply_actions()
                self.sim.step(1, check_divergence=False)
        else:
            phases.act(action)
            self.sim.step(decimation, check_divergence=False)
        # 3-5. Divergence guard, terminations, rewards, commands, interval events, observations.
        result = phases.evaluate()
        if self._interval_events:
            # An interval event may have moved bodies or geoms welded to the world, which MuJoCo
            # Warp's kinematics never places again (a no-op unless such fields are per-world).
            self.sim.update_static_poses()
        # 6-7. Finished worlds reset; their first observations replace their terminal ones.
        obs = self._reset_worlds(result.done, result.obs, phases, self.cfg.reset_forward)
        return obs, result.reward, result.terminated, result.truncated, result.obs

    def _reset_worlds(
        self,
        mask: torch.Tensor,
        obs_before: step_phases.Observations | None,
        phases: step_phases.StepPhases,
        forward: str,
    ) -> step_phases.Observations:
        """Resets the worlds in ``mask`` (bool ``[num_envs]``): curricula, physics state, reset
        events, the forward pass ``forward`` names (``RlEnvCfg.reset_forward``), every manager.

        Returns:
          the observations: with ``obs_before``, every world's (the reset worlds' new ones merged
          into ``obs_before``), else those taken after the reset.
        """
        phases.start_reset(mask)
        self.sim.reset(mask, forward=False)
        phases.reset_events(mask)
        # Reset events may have moved bodies or geoms welded to the world (per-world body_pos,
        # geom_pos...), which MuJoCo Warp's kinematics leaves where they were: place them, before
        # the forward pass and, with none, before the next step's collision.
        self.sim.update_static_poses(mask)
        if forward != "none":  # "none": checked unread when the env was built
            self.sim.forward(positions_velocities_only=forward == "positions_velocities")
        return phases.finish_reset(mask, obs_before)

    def pop_episode_stats(self) -> dict[str, float]:
        """Means over episodes finished since the last call (one host sync; once per iteration).

        Also raises ``CapacityError`` if the physics dropped contacts or constraints.
        """
        self.sim.check_capacity()
        return self.stats.pop()

    @property
    def observations(self) -> dict[str, torch.Tensor]:
        """The latest observations ``{group: [num_envs, dim]}``."""
        return self._obs

    def command(self, name: str) -> torch.Tensor:
        """Current command ``[num_envs, dim]`` of the command term ``name``."""
        return self.command_manager.get(name)

    def get_state(self) -> dict:
        """An exact snapshot of the whole env: everything that decides the future steps, as CPU
        tensors and plain values (loads with ``torch.load(..., weights_only=True)``); see
        ``warplab.envs.env_state``. To put worlds in a physical state of your own, use
        ``set_physical_state``."""
        return env_state.get_state(self)

    def set_state(self, state: dict) -> None:
        """Restores a ``get_state`` snapshot exactly, every buffer of every world (no reset, no
        step); raises ``EnvStateError`` naming what differs when it comes from another task or
        number of worlds. To put worlds in a physical state of your own, use ``set_physical_state``."""
        self._obs = env_state.set_state(self, state)

    def set_physical_state(
        self,
        qpos: torch.Tensor | None = None,
        qvel: torch.Tensor | None = None,
        act: torch.Tensor | None = None,
        worlds: physical_state.Worlds = None,
    ) -> dict[str, torch.Tensor]:
        """Puts the chosen worlds in a physical state of your own (a demonstration's frame, a
        curriculum's start state, a test's state) and lets every term compute from it.

        Writes the given arrays into those worlds, runs MuJoCo's forward pass (poses, contacts,
        sensors), tells every term that keeps a quantity of the physical state across steps (the
        forward reward's position before the step, the feet's last contacts) to take it from the
        new state, and returns the observations of the new state. The episode goes on: its
        length, reward sums, last actions, commands, timers and curricula stay (see
        ``warplab.envs.physical_state`` for the full list). Unlike ``set_state`` (an exact
        snapshot of everything), it sets only the physical state, of some worlds.

        Args:
          qpos: joint positions ``[k, nq]`` (m, rad; free and ball joint quaternions ``(w, x, y,
            z)`` written as given when their norm is within 0.25 of 1, as MuJoCo normalizes them
            where it uses them, else refused), one row per chosen world, or ``[nq]`` for the same
            in each; with a bool mask also ``[num_envs, nq]`` (only the masked rows are read).
          qvel: joint velocities ``[k, nv]`` (m/s, rad/s) likewise.
          act: actuator activations ``[k, na]`` likewise (models with stateful actuators only).
          worlds: ``None`` (every world), a world index, a list or 1-D tensor of distinct indices,
            or a bool mask ``[num_envs]``.
          Arrays are torch tensors (on the env's device or the CPU) or numpy arrays, floating point;
          they are copied as float32. Omitted arrays keep their values.

        Returns:
          the latest observations ``{group: [num_envs, dim]}``: those of the new state in the
          chosen worlds, unchanged in the others (also ``env.observations`` from now on).

        Raises:
          ValueError: one line naming the argument, the world and what is wrong (shape, dtype,
            device, NaN or inf, a quaternion's norm, a world index, a position or speed beyond
            which the divergence guard would end the episode at once); nothing is written.
        """
        self._obs = physical_state.set_physical_state(self, qpos=qpos, qvel=qvel, act=act, worlds=worlds)
        return self._obs

    def close(self) -> None:
        """Releases nothing yet; present so adapters can call it."""

    def _use_keyframe(self, name: str) -> None:
        key = mujoco.mj_name2id(self.mj_model, mujoco.mjtObj.mjOBJ_KEY, name)
        if key < 0:
            names = [self.mj_model.key(i).name for i in range(self.mj_model.nkey)]
            raise ConfigError(f"RlEnvCfg.init_keyframe: the model has no keyframe {name!r}; it has {names}")
        self.sim.init_qpos.copy_(torch.as_tensor(self.mj_model.key_qpos[key], dtype=torch.float32))
        self.sim.init_qvel.copy_(torch.as_tensor(self.mj_model.key_qvel[key], dtype=torch.float32))

    # ------------------------------------------------------------------ resets
    def _reset_all(self) -> dict[str, torch.Tensor]:
        """Resets every world (plain phases, the full forward pass); returns their observations."""
        everything = torch.ones(self.num_envs, dtype=torch.bool, device=self.device)
        return self._reset_worlds(everything, None, self._plain_phases, "full")

    def _check_reset_forward_unread(self) -> None:
        changed = reset_forward_changes(self)
        if changed:
            raise ConfigError(
                "RlEnvCfg.reset_forward='none' skips the forward pass after resets, but these read "
                f"quantities MuJoCo derives from qpos and qvel (poses, velocities, sensors) after a reset: "
                f"{changed}; a reset world would see its state from before the reset. Use "
                "reset_forward='positions_velocities' (or 'full' for forces and accelerations)"
            )
