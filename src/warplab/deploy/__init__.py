"""Deployment: ONNX export with metadata, and the ``Policy`` runtime (onnxruntime and numpy only).

``from warplab.deploy import Policy`` does not import torch, Warp or MuJoCo; ``export_checkpoint``
(which does) loads when first used.
"""

from warplab.deploy.policy import NonFiniteError, Policy, PolicyError

__all__ = ["NonFiniteError", "Policy", "PolicyError", "export_checkpoint"]


def __getattr__(name: str):
    if name == "export_checkpoint":
        from warplab.deploy.export import export_checkpoint

        return export_checkpoint
    raise AttributeError(f"module 'warplab.deploy' has no attribute {name!r}")
