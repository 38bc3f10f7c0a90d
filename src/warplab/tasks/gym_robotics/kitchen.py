"""``FrankaKitchenMicrowave-v1``: Gymnasium-Robotics' ``FrankaKitchen-v1`` with
``tasks_to_complete=["microwave"]`` on warplab: the Franka opens the microwave's door.

The package's own model (``kitchen_franka/kitchen_assets/kitchen_env_model.xml``, loaded from the
installed package) and its semantics with its default arguments (``kitchen_env.py``,
``franka_env.py``; ``max_episode_steps=280``):

- control: 9 actions in [-1, 1], joint velocities of the 7 arm joints and the 2 fingers, 2 rad/s
  (m/s) per unit, integrated over the 0.08 s step from the last observed joint positions into
  the position servos' targets (``kitchen_mdp.JointVelocityAction``); 40 physics steps of 2 ms
  per policy step (``frame_skip``);
- observation: one ``policy`` group of 61 values, the package's dict in the order of its keys as
  the Fetch task flattens it: ``observation`` (59: robot qpos 9, robot qvel 9, the props' qpos
  21 and qvel 20, each with the package's uniform noise, ``robot_noise_ratio`` 0.01 and
  ``object_noise_ratio`` 0.0005), ``achieved_goal`` (1: the microwave door's hinge angle, rad,
  no noise) and ``desired_goal`` (1: -0.75 rad);
- reward: the number of tasks completed at this step, 1.0 where the hinge is within 0.3 rad
  (``BONUS_THRESH``) of -0.75, else 0; success: that completion;
- episodes: terminated at the completion (``terminate_on_tasks_completed``; removing the task
  from the list, ``remove_task_when_completed``, changes nothing more in a one-task episode that
  ends there), truncated after 280 steps (22.4 s); each starts from the package's ``init_qpos``
  at rest.

``noise=False`` gives the deterministic variant (both noise ratios 0, as
``gym.make("FrankaKitchen-v1", robot_noise_ratio=0, object_noise_ratio=0)``), which the parity
test compares step for step.
"""

from __future__ import annotations

from warplab.envs import mdp
from warplab.envs.config import (
    ActionTermCfg,
    EventTermCfg,
    ObservationGroupCfg,
    ObservationTermCfg,
    RewardTermCfg,
    RlEnvCfg,
    TerminationTermCfg,
    ViewerCfg,
)
from warplab.tasks.gym_robotics import kitchen_mdp
from warplab.tasks.gym_robotics.assets import kitchen_spec

FRAME_SKIP = 40
"""Physics steps of 2 ms per policy step, the package's ``frame_skip``."""
MAX_EPISODE_STEPS = 280
"""``max_episode_steps`` the package registers ``FrankaKitchen-v1`` with."""
BONUS_THRESH = 0.3
"""A task is completed within this distance of its goal (rad for the microwave's hinge)."""
MICROWAVE_JOINT = "microwave"
MICROWAVE_GOAL = (-0.75,)
"""The package's ``OBS_ELEMENT_GOALS["microwave"]``: the door's hinge at -0.75 rad (open)."""
ROBOT_NOISE_RATIO, OBJECT_NOISE_RATIO = 0.01, 0.0005
"""The package's default noise ratios (``FrankaRobot`` and ``KitchenEnv`` arguments)."""
INIT_QPOS = (
    1.48388023e-01, -1.76848573e00, 1.84390296e00, -2.47685760e00, 2.60252026e-01, 7.12533105e-01,
    1.59515394e00, 4.79267505e-02, 3.71350919e-02, -2.66279850e-04, -5.18043486e-05, 3.12877220e-05,
    -4.51199853e-05, -3.90842156e-06, -4.22629655e-05, 6.28065475e-05, 4.04984708e-05, 4.62730939e-04,
    -2.26906415e-04, -4.65501369e-04, -6.44129196e-03, -1.77048263e-03, 1.08009684e-03, -2.69397440e-01,
    3.50383255e-01, 1.61944683e00, 1.00618764e00, 4.06395120e-03, -6.62095997e-03, -2.68278933e-04,
)  # fmt: skip
"""The package's ``init_qpos`` (``KitchenEnv.__init__``): every episode starts here, at rest."""


def make_kitchen_microwave_env_cfg(play: bool = False, noise: bool = True) -> RlEnvCfg:
    """Gymnasium-Robotics' ``FrankaKitchen-v1`` with ``tasks_to_complete=["microwave"]`` (module
    docstring). ``noise=False``: the deterministic variant (no observation noise). ``play``
    changes nothing: the task has no curriculum, and the noise is part of the package's task."""
    del play
    ratios = (ROBOT_NOISE_RATIO, OBJECT_NOISE_RATIO) if noise else (0.0, 0.0)
    goal = {"joint": MICROWAVE_JOINT, "goal": MICROWAVE_GOAL, "threshold": BONUS_THRESH}
    state = kitchen_mdp.noisy_state
    obs_terms = {
        "robot_qpos": ObservationTermCfg(func=state, params={"part": "robot_qpos"}),
        "robot_qvel": ObservationTermCfg(func=state, params={"part": "robot_qvel"}),
        "prop_qpos": ObservationTermCfg(func=state, params={"part": "prop_qpos"}),
        "prop_qvel": ObservationTermCfg(func=state, params={"part": "prop_qvel"}),
        "achieved_goal": ObservationTermCfg(
            func=kitchen_mdp.joint_qpos_columns, params={"joint": MICROWAVE_JOINT}
        ),
        "desired_goal": ObservationTermCfg(func=kitchen_mdp.constant, params={"value": MICROWAVE_GOAL}),
    }
    return RlEnvCfg(
        scene=kitchen_spec,
        decimation=FRAME_SKIP,
        episode_length_s=MAX_EPISODE_STEPS * FRAME_SKIP * 0.002,
        scale_rewards_by_dt=False,
        # The observations read qpos and qvel only; the package's reset runs a forward pass, which
        # changes neither.
        reset_forward="positions_velocities",
        observations={"policy": ObservationGroupCfg(terms=obs_terms)},
        actions={
            "joint_velocities": ActionTermCfg(
                func=kitchen_mdp.JointVelocityAction,
                params={"robot_noise_ratio": ratios[0], "object_noise_ratio": ratios[1]},
            )
        },
        rewards={
            "tasks_completed": RewardTermCfg(func=kitchen_mdp.tasks_completed_count, weight=1.0, params=goal)
        },
        terminations={
            "time_out": TerminationTermCfg(func=mdp.time_out, time_out=True),
            "microwave_open": TerminationTermCfg(func=kitchen_mdp.tasks_completed, params=goal),
        },
        events={
            "initial_state": EventTermCfg(
                func=kitchen_mdp.set_initial_state, mode="startup", params={"qpos": INIT_QPOS}
            )
        },
        viewer=ViewerCfg(track_body="microwave", distance=2.2, elevation=-35.0, azimuth=70.0),
    )
