"""Replay buffer of off-policy learning: ring buffers on the env's device, n-step windows at sampling.

Every ``add`` writes one env step of all N worlds into row ``pos`` of ring buffers shaped
``[capacity, N, ...]``, allocated once. ``sample`` draws (step, world) pairs uniformly among the
written ones and builds each pair's n-step transition from the rows after it. The write position
and the fill level live in device tensors, so neither call waits for the device, and ``sample``
can be recorded in a CUDA graph (its shapes depend only on ``batch_size``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import torch

from warplab._values import is_int

_RANDOM_BOUND = 2**62
"""Exclusive bound of the raw random integers reduced modulo (written steps * N) in `sample`.

The reduction favours the smallest residues by at most (steps * N) / 2**62, far below anything a
test or a training run could see, and keeps the draw a fixed-shape device op (no host-side bound).
"""


class ReplayBatch(NamedTuple):
    """B sampled n-step transitions; every tensor is on the buffer's device."""

    obs: dict[str, torch.Tensor]
    """{group: [B, *shape]} observations at the sampled step t."""
    actions: torch.Tensor
    """[B, A] actions taken at t, in the units they were added in."""
    rewards: torch.Tensor
    """[B] n-step discounted reward ``sum_{i<k} gamma^i r_{t+i}`` over the window of k steps."""
    next_obs: dict[str, torch.Tensor]
    """{group: [B, *shape]} bootstrap observation after the window's last step (its final obs)."""
    discounts: torch.Tensor
    """[B] ``gamma^k``, or 0 when the window's last step was a termination."""


class ReplayBuffer:
    """Transitions of N worlds in ring buffers of ``capacity_per_env`` steps each.

    The n-step window from a sampled step t has k steps: the smallest of ``n_step``, the steps up
    to and including the first done (terminated or truncated) at or after t, and the steps written
    from t up to the newest. A window ending in a termination gets discount 0; one ending in a
    time-out gets ``gamma^k`` and bootstraps from that step's final observation (``next_obs`` of
    ``add``), as does a window cut by n or by the newest step. A window only reads rows written
    after t, so it never reads a row that a wrap-around has overwritten.

    Args:
        capacity_per_env: C, steps kept per world; the oldest step is overwritten once C are held.
        num_envs: N, worlds written by each ``add``.
        obs_shapes: {group: shape of one world's observation}, e.g. ``{"policy": (48,), "critic":
            (60,)}``; the groups stored (other groups passed to ``add`` are ignored).
        action_dim: A.
        device: where the buffers live (the env's device); every tensor passed in must be there.
        n_step: n, the longest window of rewards summed into one transition.
        gamma: discount per step, in [0, 1].
    """

    def __init__(
        self,
        capacity_per_env: int,
        num_envs: int,
        obs_shapes: Mapping[str, Sequence[int]],
        action_dim: int,
        device: torch.device | str,
        n_step: int = 1,
        gamma: float = 0.99,
    ) -> None:
        for name, value in (
            ("capacity_per_env", capacity_per_env),
            ("num_envs", num_envs),
            ("action_dim", action_dim),
            ("n_step", n_step),
        ):
            if not is_int(value) or value < 1:
                raise ValueError(f"ReplayBuffer {name} must be an integer >= 1, got {value!r}")
        if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not 0.0 <= gamma <= 1.0:
            raise ValueError(f"ReplayBuffer gamma must be a number in [0, 1], got {gamma!r}")
        if not isinstance(obs_shapes, Mapping) or not obs_shapes:
            raise ValueError(
                f"ReplayBuffer obs_shapes must map at least one group name to a shape, got {obs_shapes!r}"
            )
        shapes: dict[str, tuple[int, ...]] = {}
        for group, shape in obs_shapes.items():
            if (
                not isinstance(group, str)
                or not isinstance(shape, Sequence)
                or not all(is_int(size) and size >= 1 for size in shape)
            ):
                raise ValueError(
                    f"ReplayBuffer obs_shapes[{group!r}] must be a sequence of integers >= 1, got {shape!r}"
                )
            shapes[group] = tuple(shape)

        self.capacity_per_env = capacity_per_env
        self.num_envs = num_envs
        self.obs_shapes = shapes
        self.action_dim = action_dim
        self.n_step = n_step
        self.gamma = float(gamma)
        # An empty tensor resolves "cuda" to "cuda:<current>", the device tensors report, so that
        # the device check in `add` compares like with like.
        self.device = torch.empty(0, device=device).device
        c, n = capacity_per_env, num_envs

        def zeros(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
            return torch.zeros(shape, dtype=dtype, device=self.device)

        self.obs = {group: zeros(c, n, *shape) for group, shape in shapes.items()}
        """{group: [C, N, *shape]} observation the action was taken from."""
        self.next_obs = {group: zeros(c, n, *shape) for group, shape in shapes.items()}
        """{group: [C, N, *shape]} bootstrap observation after the step (the final obs at a done)."""
        self.actions = zeros(c, n, action_dim)
        """[C, N, A] actions."""
        self.rewards = zeros(c, n)
        """[C, N] one-step rewards."""
        self.terminated = zeros(c, n, dtype=torch.bool)
        """[C, N] the step ended its episode in a terminal state (no bootstrap)."""
        self.truncated = zeros(c, n, dtype=torch.bool)
        """[C, N] the step ended its episode by a time-out (bootstrap from next_obs)."""
        self.pos = zeros(dtype=torch.long)
        """[] row the next ``add`` writes."""
        self.size = zeros(dtype=torch.long)
        """[] rows written so far, at most C."""
        self._gamma_powers = torch.tensor(
            [self.gamma**k for k in range(n_step + 1)], dtype=torch.float32, device=self.device
        )
        """[n + 1] gamma^k for a window of k steps."""
        self.num_added_steps = 0
        """Number of ``add`` calls so far (a host counter: reading it never waits for the device)."""

    @property
    def num_stored_steps(self) -> int:
        """Steps per world that can be sampled now: ``min(num_added_steps, capacity_per_env)``."""
        return min(self.num_added_steps, self.capacity_per_env)

    def nbytes(self) -> int:
        """Device memory held by the buffers, bytes."""
        tensors = [*self.obs.values(), *self.next_obs.values(), *self._fields()]
        return sum(t.element_size() * t.numel() for t in tensors)

    def _fields(self) -> tuple[torch.Tensor, ...]:
        return (self.actions, self.rewards, self.terminated, self.truncated)

    # Writing -------------------------------------------------------------------------------------

    def _check(self, field: str, value: Any, shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
        """Raise a one-line ValueError unless `value` is a tensor of `shape` and `dtype` on the device."""
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"ReplayBuffer.add {field} must be a torch.Tensor, got {type(value).__name__}")
        if tuple(value.shape) != shape:
            raise ValueError(
                f"ReplayBuffer.add {field} must have shape {list(shape)}, got {list(value.shape)}"
            )
        if value.dtype != dtype:
            raise ValueError(f"ReplayBuffer.add {field} must have dtype {dtype}, got {value.dtype}")
        if value.device != self.device:
            raise ValueError(
                f"ReplayBuffer.add {field} must be on the buffer's device {self.device}, got {value.device}"
            )
        return value

    def _check_obs(self, field: str, obs: Any) -> dict[str, torch.Tensor]:
        if not isinstance(obs, Mapping):
            raise ValueError(
                f"ReplayBuffer.add {field} must be a dict {{group: tensor}}, got {type(obs).__name__}"
            )
        missing = [group for group in self.obs_shapes if group not in obs]
        if missing:
            raise ValueError(
                f"ReplayBuffer.add {field} lacks the groups {missing} (it has {sorted(obs)}; "
                f"the buffer stores {sorted(self.obs_shapes)})"
            )
        return {
            group: self._check(f"{field}[{group!r}]", obs[group], (self.num_envs, *shape), torch.float32)
            for group, shape in self.obs_shapes.items()
        }

    def add(
        self,
        obs: Mapping[str, torch.Tensor],
        actions: torch.Tensor,
        rewards: torch.Tensor,
        next_obs: Mapping[str, torch.Tensor],
        terminated: torch.Tensor,
        truncated: torch.Tensor,
    ) -> None:
        """Write one env step of all N worlds (copies: the env may reuse its tensors).

        Args:
            obs: {group: [N, *shape] float32} observations the actions were taken from.
            actions: [N, A] float32 actions sent to the env.
            rewards: [N] float32 rewards of the step.
            next_obs: {group: [N, *shape] float32} the env's ``info["final_obs"]``: the terminal
                observation in worlds that finished, the next observation elsewhere.
            terminated: [N] bool, the episode ended in a terminal state.
            truncated: [N] bool, the episode ended by a time-out.

        Raises:
            ValueError: a tensor is missing or has the wrong shape, dtype or device (one line).
        """
        n = self.num_envs
        obs = self._check_obs("obs", obs)
        next_obs = self._check_obs("next_obs", next_obs)
        values = (
            self._check("actions", actions, (n, self.action_dim), torch.float32),
            self._check("rewards", rewards, (n,), torch.float32),
            self._check("terminated", terminated, (n,), torch.bool),
            self._check("truncated", truncated, (n,), torch.bool),
        )
        # The row index is the device tensor `pos` (not the host counter), so that an add recorded
        # in a CUDA graph writes where the buffer stands at each replay.
        row = self.pos.view(1)
        for group in self.obs_shapes:
            self.obs[group].index_copy_(0, row, obs[group].unsqueeze(0))
            self.next_obs[group].index_copy_(0, row, next_obs[group].unsqueeze(0))
        for buffer, value in zip(self._fields(), values, strict=True):
            buffer.index_copy_(0, row, value.unsqueeze(0))
        self.pos.add_(1).remainder_(self.capacity_per_env)
        self.size.add_(1).clamp_(max=self.capacity_per_env)
        self.num_added_steps += 1

    # Sampling ------------------------------------------------------------------------------------

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> ReplayBatch:
        """Draw ``batch_size`` n-step transitions, uniformly over written (step, world) pairs.

        Sampling is with replacement. No host sync: the draw and the windows are device ops of
        fixed shapes, and the fill level is read from device tensors. `add` may run under
        ``torch.inference_mode()``; call `sample` outside it when the batch feeds a backward pass
        (autograd cannot save inference tensors).

        Args:
            batch_size: B.
            generator: a generator on the buffer's device (None: torch's default one there).

        Raises:
            ValueError: nothing has been added yet, `batch_size` is not an integer >= 1, or the
                generator is on another device.
        """
        if not is_int(batch_size) or batch_size < 1:
            raise ValueError(f"ReplayBuffer.sample batch_size must be an integer >= 1, got {batch_size!r}")
        if self.num_added_steps == 0:
            raise ValueError("ReplayBuffer.sample: the buffer is empty; add at least one step first")
        if generator is not None and generator.device.type != self.device.type:
            raise ValueError(
                f"ReplayBuffer.sample generator must be on the buffer's device {self.device}, "
                f"got one on {generator.device}"
            )
        capacity, n = self.capacity_per_env, self.num_envs
        draw = torch.randint(
            _RANDOM_BOUND, (batch_size,), generator=generator, device=self.device, dtype=torch.long
        )
        # A flat index over the written pairs: `age` counts steps from the oldest written one.
        flat = draw.remainder(self.size * n)
        age, world = flat.div(n, rounding_mode="floor"), flat.remainder(n)
        oldest = (self.pos - self.size).remainder(capacity)
        row = (oldest + age).remainder(capacity)
        # Steps written from t up to the newest, t included (>= 1).
        available = self.size - age

        rewards = torch.zeros(batch_size, device=self.device)
        steps = torch.zeros(batch_size, dtype=torch.long, device=self.device)
        open_window = torch.ones(batch_size, dtype=torch.bool, device=self.device)
        for i in range(self.n_step):
            row_i = (row + i).remainder(capacity)
            # Step t + i belongs to the window when it has been written and no done came before it.
            inside = open_window & (available > i)
            rewards += torch.where(inside, self.rewards[row_i, world], 0.0) * (self.gamma**i)
            steps += inside.long()
            # Gathered per sampled row: a done mask of the whole buffer would cost C * N per sample.
            done = self.terminated[row_i, world] | self.truncated[row_i, world]
            open_window = inside & ~done
        last = (row + steps - 1).remainder(capacity)
        discounts = self._gamma_powers[steps] * (~self.terminated[last, world]).float()
        return ReplayBatch(
            obs={group: buffer[row, world] for group, buffer in self.obs.items()},
            actions=self.actions[row, world],
            rewards=rewards,
            next_obs={group: buffer[last, world] for group, buffer in self.next_obs.items()},
            discounts=discounts,
        )

    # Checkpoints ---------------------------------------------------------------------------------

    def _config(self) -> dict[str, Any]:
        """The storage layout a state must match; n_step and gamma may change on a resume (windows
        are built at sampling, from one-step rewards)."""
        return {
            "capacity_per_env": self.capacity_per_env,
            "num_envs": self.num_envs,
            "obs_shapes": {group: list(shape) for group, shape in self.obs_shapes.items()},
            "action_dim": self.action_dim,
        }

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to sample exactly as now: tensors and plain values (``weights_only``-safe).

        The tensors are CPU copies of the written rows only (rows ``[0, num_stored_steps)``: writing
        starts at row 0), so a checkpoint of a buffer still filling is small, and saving never
        needs a second copy of the buffer on the device.
        """
        stored = self.num_stored_steps

        def rows(buffer: torch.Tensor) -> torch.Tensor:
            return buffer[:stored].to("cpu", copy=True)

        return {
            "config": self._config(),
            "num_added_steps": self.num_added_steps,
            "obs": {group: rows(buffer) for group, buffer in self.obs.items()},
            "next_obs": {group: rows(buffer) for group, buffer in self.next_obs.items()},
            "actions": rows(self.actions),
            "rewards": rows(self.rewards),
            "terminated": rows(self.terminated),
            "truncated": rows(self.truncated),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a `state_dict` of a buffer with the same layout (capacity, worlds, groups, actions).

        The tensors are copied into this buffer's own; its n_step and gamma stay as constructed.

        Raises:
            ValueError: the state is of a buffer with another layout, or is malformed.
        """
        if not isinstance(state, Mapping) or "config" not in state:
            raise ValueError("ReplayBuffer.load_state_dict: not a replay buffer state (no 'config' entry)")
        config = dict(state["config"])
        if isinstance(config.get("obs_shapes"), Mapping):
            config["obs_shapes"] = {group: list(shape) for group, shape in config["obs_shapes"].items()}
        if config != self._config():
            raise ValueError(
                f"ReplayBuffer.load_state_dict: the state is of a buffer with {config}, this one has "
                f"{self._config()}; build the buffer with the saved configuration"
            )
        added = state.get("num_added_steps")
        if not is_int(added) or added < 0:
            raise ValueError(
                f"ReplayBuffer.load_state_dict num_added_steps must be an integer >= 0, got {added!r}"
            )
        stored = min(added, self.capacity_per_env)

        def entry(name: str, group: str | None = None) -> Any:
            value = state.get(name)
            if group is None:
                return value
            return value.get(group) if isinstance(value, Mapping) else None

        pairs = [(f"obs[{g!r}]", self.obs[g], entry("obs", g)) for g in self.obs_shapes]
        pairs += [(f"next_obs[{g!r}]", self.next_obs[g], entry("next_obs", g)) for g in self.obs_shapes]
        names = ("actions", "rewards", "terminated", "truncated")
        pairs += [(name, buffer, entry(name)) for name, buffer in zip(names, self._fields(), strict=True)]
        for name, buffer, value in pairs:
            expected = (stored, *buffer.shape[1:])
            if not isinstance(value, torch.Tensor) or tuple(value.shape) != expected:
                got = list(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
                raise ValueError(
                    f"ReplayBuffer.load_state_dict {name} must be a tensor of shape {list(expected)}, got {got}"
                )
            if value.dtype != buffer.dtype:
                raise ValueError(
                    f"ReplayBuffer.load_state_dict {name} must have dtype {buffer.dtype}, got {value.dtype}"
                )
        for _, buffer, value in pairs:
            buffer[:stored].copy_(value)
        self.pos.fill_(added % self.capacity_per_env)
        self.size.fill_(stored)
        self.num_added_steps = added


def replay_nbytes(
    capacity_per_env: int, num_envs: int, obs_shapes: Mapping[str, Sequence[int]], action_dim: int
) -> int:
    """Bytes a `ReplayBuffer` of this size allocates, without allocating it (for a fit check).

    Per step and world: two float32 copies of every observation group (obs and next_obs), A
    float32 actions, a float32 reward and two bools.
    """
    per_transition = 4 * (2 * sum(math.prod(shape) for shape in obs_shapes.values()) + action_dim + 1) + 2
    return capacity_per_env * num_envs * per_transition
