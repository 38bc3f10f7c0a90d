"""Per-world model fields: the fields that domain randomization changes in each world.

MuJoCo Warp stores every batchable model field with a leading world dimension of 1, shared by all
worlds. Replacing that array with one whose leading dimension is ``num_worlds`` makes the field
per-world; kernels index it by world. Only fields a randomization term asks for are expanded, so
the others keep one copy in memory and in cache.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import mujoco_warp as mjw
import torch
import warp as wp

if TYPE_CHECKING:
    from warplab.sim.simulation import Simulation

# Fields a randomization may change, with what a change needs afterwards ("set_const": derived
# constants such as subtree masses and inverse weights must be recomputed).
RANDOMIZABLE_FIELDS: dict[str, str] = {
    "geom_friction": "",
    "geom_solref": "",
    "geom_solimp": "",
    "geom_rgba": "",
    "geom_size": "set_const",
    "geom_margin": "",
    "geom_pos": "",
    "site_pos": "",
    "body_mass": "set_const",
    "body_ipos": "set_const",
    "body_inertia": "set_const",
    "body_pos": "",
    "body_quat": "",
    "dof_damping": "",
    "dof_armature": "set_const",
    "dof_frictionloss": "",
    "jnt_stiffness": "",
    "jnt_range": "",
    "qpos_spring": "",
    "qpos0": "set_const",
    "actuator_gainprm": "",
    "actuator_biasprm": "",
    "actuator_ctrlrange": "",
    "actuator_forcerange": "",
    "actuator_gear": "",
    "opt.gravity": "",
    "opt.wind": "",
}

# What MuJoCo Warp's ``set_const`` writes. It computes each of these for as many worlds as the
# array holds, so one left shared would keep world 0's value while its source (a mass, say) differs
# per world. They become per-world with the first field that needs ``set_const``.
SET_CONST_OUTPUTS = (
    "body_subtreemass",
    "body_invweight0",
    "dof_invweight0",
    "tendon_invweight0",
    "tendon_length0",
    "actuator_acc0",
    "eq_data",
    "geom_aabb",
    "geom_rbound",
    "cam_pos0",
    "cam_poscom0",
    "cam_mat0",
    "light_pos0",
    "light_poscom0",
    "light_dir0",
)


def _batched_fields(cls: type) -> set[str]:
    names = set()
    for f in dataclasses.fields(cls):
        shape = getattr(f.type, "shape", None)
        if shape and shape[0] == "*":
            names.add(f.name)
    return names


class PerWorldFields:
    """Expands model fields to one copy per world on first request and hands out torch views."""

    def __init__(self, sim: Simulation):
        self._sim = sim
        self._views: dict[str, torch.Tensor] = {}
        self._defaults: dict[str, torch.Tensor] = {}
        self._expanded: list[tuple[str, object, str]] = []
        """``(name, owner, attr)`` of every array made per-world, derived ones included, in order."""
        self._batchable = {"model": _batched_fields(mjw.Model), "opt": _batched_fields(mjw.Option)}

    @property
    def names(self) -> list[str]:
        """Fields made per-world so far."""
        return sorted(self._views)

    def arrays(self) -> dict[str, torch.Tensor]:
        """Views ``{name: [num_worlds, ...]}`` of every model array made per-world so far.

        These are the requested fields and the constants ``set_const`` derives from them (subtree
        masses, inverse weights...): together, the part of the model that differs between worlds,
        which an exact save of the simulation must hold.
        """
        return {name: wp.to_torch(getattr(owner, attr)) for name, owner, attr in self._expanded}

    def get(self, name: str) -> torch.Tensor:
        """A writable ``[num_worlds, ...]`` torch view of model field ``name`` (``"opt.gravity"`` for options)."""
        view = self._views.get(name)
        if view is not None:
            return view
        owner, attr = self._owner(name)
        self._defaults[name] = wp.to_torch(getattr(owner, attr))[0].clone()
        if RANDOMIZABLE_FIELDS.get(name) == "set_const":
            for derived in SET_CONST_OUTPUTS:
                if derived in self._batchable["model"]:
                    self._expand(self._sim.model, derived)
        view = wp.to_torch(self._expand(owner, attr))
        self._views[name] = view
        return view

    def _expand(self, owner, attr: str) -> wp.array:
        """Gives field ``attr`` of ``owner`` a leading dimension of ``num_worlds`` (a copy per world)."""
        current: wp.array = getattr(owner, attr)
        n = self._sim.num_worlds
        name = attr if owner is self._sim.model else f"opt.{attr}"
        if all(done != name for done, _, _ in self._expanded):
            self._expanded.append((name, owner, attr))
        if current.shape[0] == n:
            return current
        with wp.ScopedDevice(self._sim.wp_device):
            shared = wp.to_torch(current)
            tiled = shared.repeat((n,) + (1,) * (shared.ndim - 1)).contiguous()
            # Warp annotates from_torch as returning "array | array_t" for every call, though the
            # ctypes struct array_t comes back only with return_ctype=True, which is not passed here.
            expanded: wp.array = wp.from_torch(tiled, dtype=current.dtype)  # type: ignore[assignment]
        setattr(owner, attr, expanded)
        # The captured graphs hold the old array's address.
        self._sim.invalidate_graphs()
        return expanded

    def default(self, name: str) -> torch.Tensor:
        """The model's own value of field ``name`` (as compiled, one world's shape), for randomization
        that scales from the nominal value rather than compounding across resets."""
        self.get(name)
        return self._defaults[name]

    def _owner(self, name: str):
        model = self._sim.model
        if name.startswith("opt."):
            attr = name[4:]
            if attr not in self._batchable["opt"]:
                raise KeyError(
                    f"model field {name!r} cannot be made per-world; per-world options are: "
                    f"{sorted('opt.' + a for a in self._batchable['opt'])}"
                )
            return model.opt, attr
        if name not in self._batchable["model"]:
            known = sorted(self._batchable["model"])
            hint = [k for k in known if name.split("_")[0] in k][:12]
            raise KeyError(
                f"model field {name!r} cannot be made per-world (not a batched MuJoCo Warp field). "
                f"Fields randomization uses: {sorted(RANDOMIZABLE_FIELDS)}"
                + (f"; similar: {hint}" if hint else "")
            )
        return model, name
