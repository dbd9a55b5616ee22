"""mmavs: audio-visual segmentation on MMSegmentation 1.x.

Importing this package (or naming it in a config's ``custom_imports``) prepares
the environment and registers every mmavs component in mmseg's registries:

1. installs a stand-in for ``mmcv._ext`` when only mmcv-lite is present, so that
   mmseg imports (a full mmcv keeps its compiled ops);
2. makes mmengine load local checkpoints with ``weights_only=True`` and the
   few extra objects its own checkpoints need;
3. imports the datasets, transforms, models and metrics.
"""
from .utils.mmcv_ext_stub import install_mmcv_ext_stub

install_mmcv_ext_stub()

from .utils.checkpoint import register_safe_checkpoint_loader  # noqa: E402

register_safe_checkpoint_loader()

from . import (datasets, engine, evaluation, models,  # noqa: E402,F401
               structures)
from .version import __version__  # noqa: E402

__all__ = ['__version__']
