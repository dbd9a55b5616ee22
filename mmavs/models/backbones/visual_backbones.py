"""Visual backbones from any registry scope, mmpretrain's included.

``AudioVisualBackbone(visual=dict(type=...))`` builds the visual backbone from
mmseg's ``MODELS``. A type with a scope prefix, e.g. ``'mmpretrain.ConvNeXt'``,
is found by mmengine's cross-scope lookup in that package's registry, which
mmengine imports on first use. Two things are added here:

- the scope's package is imported first, so that a missing or broken optional
  dependency fails with what to install instead of mmengine's "not in the
  registry";
- the backbone's outputs are checked to be feature maps ``(N, C_l, H_l,
  W_l)``, the layout every neck and head reads (``docs/en/architecture.md``);
  some classification backbones pool them by default.
"""
import importlib
from typing import List, Sequence

from mmseg.registry import MODELS
from torch import Tensor, nn

# How to get the package of an optional scope.
OPTIONAL_SCOPES = {
    'mmpretrain': "pip install 'mmavs[mmpretrain]' (mmpretrain >= 1.2 and a "
                  'torchvision built for your torch); see '
                  'docs/en/get_started.md',
}
# What makes known backbones return maps, for the error message.
MAP_HINTS = {
    'mmpretrain.ConvNeXt': 'gap_before_final_norm=False',
}


def _scope_of(type_name: object) -> str:
    """The scope prefix of a registry type name (``''`` for none)."""
    if not isinstance(type_name, str) or '.' not in type_name:
        return ''
    return type_name.split('.', 1)[0]


def import_scope(type_name: str, key: str) -> None:
    """Import the package of ``type_name``'s scope, or say what to install.

    Args:
        type_name: A registry type such as ``'mmpretrain.SwinTransformer'``.
        key: Its config key, for the message.

    Raises:
        ImportError: The scope's package (or one of its imports) is missing
            or fails to import.
    """
    scope = _scope_of(type_name)
    if not scope or scope in ('mmseg', 'mmengine'):
        return
    try:
        importlib.import_module(f'{scope}.registry')
    except Exception as err:  # a broken install raises more than ImportError
        hint = OPTIONAL_SCOPES.get(scope, f'install the package {scope!r}')
        raise ImportError(
            f'{key}.type={type_name!r} comes from {scope}, which cannot be '
            f'imported ({type(err).__name__}: {err}). To use it: {hint}.'
        ) from err


def build_visual_backbone(cfg: dict, key: str = 'model.backbone.visual'
                          ) -> nn.Module:
    """Build a visual backbone config, importing its scope's package first.

    Args:
        cfg: The backbone config; ``type`` may carry a scope prefix
            (``'mmpretrain.ConvNeXt'``).
        key: Its config key, for messages.
    """
    import_scope(cfg.get('type'), key)
    return MODELS.build(cfg)


def as_feature_maps(outputs: Sequence[Tensor], type_name: str = ''
                    ) -> List[Tensor]:
    """The backbone's outputs as a list of ``(N, C_l, H_l, W_l)`` maps.

    Raises:
        ValueError: An output is not a 4-D tensor (e.g. a pooled vector).
    """
    maps = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    shapes = [tuple(m.shape) if isinstance(m, Tensor) else type(m).__name__
              for m in maps]
    if all(isinstance(m, Tensor) and m.dim() == 4 for m in maps):
        return maps
    hint = MAP_HINTS.get(type_name)
    raise ValueError(
        'the visual backbone must return feature maps (N, C, H, W), one per '
        f'level (set its out_indices to the four levels); {type_name or "it"}'
        f' returned {shapes}' + (f'. For {type_name} set {hint}' if hint
                                 else ''))
