"""Mixed precision in bfloat16, on the CPU as on a GPU."""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper
from mmengine.runner.amp import autocast
from mmseg.registry import OPTIM_WRAPPERS
from torch import nn


@OPTIM_WRAPPERS.register_module()
class BF16OptimWrapper(OptimWrapper):
    """Run the forward pass under ``autocast`` in bfloat16.

    mmengine's ``AmpOptimWrapper`` refuses a machine without a GPU (its
    float16 loss scaling needs one). bfloat16 has float32's exponent range,
    so no loss scaling is needed and the same wrapper serves the CPU and a
    GPU: ``tools/train.py --amp`` picks it on a CPU-only machine, or
    everywhere with ``--amp-dtype bfloat16``. Parameters, gradients and the
    optimiser state stay float32.
    """

    @contextmanager
    def optim_context(self, model: nn.Module):
        with super().optim_context(model), autocast(dtype=torch.bfloat16):
            yield
