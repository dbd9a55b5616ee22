"""A TPAVI config that trains in seconds with small checkpoints.

The frozen VGGish alone makes a 288 MB checkpoint; here a one-layer audio
encoder stands in for it (``TinyAudioEncoder``, written next to the config
and imported through ``custom_imports``), the visual backbone is a ResNet-18
of width 4 and the synthetic data has 4 training clips of 2 frames at 32x32.
"""
import os.path as osp
import textwrap

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
BASE = osp.join(REPO_ROOT,
                'configs/tpavi/tpavi_r18_1xb4-20e_synthetic-ms3-64x64.py')

TINY_AUDIO = textwrap.dedent('''\
    """A tiny stand-in for VGGish, so that test checkpoints stay small."""
    import torch
    from mmengine.model import BaseModule
    from mmseg.registry import MODELS
    from torch import nn


    @MODELS.register_module(force=True)
    class TinyAudioEncoder(BaseModule):
        """(N, 1, 96, 64) log-mel to (N, 128): band means, one linear."""

        def __init__(self, out_channels=128, init_cfg=None):
            super().__init__(init_cfg)
            self.proj = nn.Linear(64, out_channels)
            self.requires_grad_(False)

        def forward(self, x):
            return torch.relu(self.proj(x.mean(dim=(1, 2))))
    ''')

TINY_CONFIG = '''\
_base_ = {base!r}
custom_imports = dict(imports=['mmavs', 'tiny_audio_encoder'],
                      allow_failed_imports=False)
synthetic = dict(seed=0, size=32, num_frames=2,
                 s4_clips=dict(train=4, val=2, test=2),
                 ms3_clips=dict(train=4, val=2, test=2))
_data = dict(data_root={data_root!r}, synthetic=synthetic, num_frames=2)
train_dataloader = dict(batch_size=2, dataset=_data)
val_dataloader = dict(batch_size=2, dataset=_data)
test_dataloader = dict(batch_size=2, dataset=_data)
model = dict(
    backbone=dict(visual=dict(base_channels=4),
                  audio=dict(_delete_=True, type='TinyAudioEncoder')),
    neck=dict(in_channels=[4, 8, 16, 32], channels=8),
    decode_head=dict(in_channels=[8] * 4, channels=8))
train_cfg = dict(max_epochs={epochs})
# mIoU_protoB rises every epoch here, so each epoch writes a new best file.
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(save_best='mIoU_protoB'))
'''


def write_tiny_config(folder, epochs=3):
    """Write the config and its audio module into ``folder``; return the
    config path. ``folder`` must be on ``sys.path`` / ``PYTHONPATH``."""
    folder = str(folder)
    with open(osp.join(folder, 'tiny_audio_encoder.py'), 'w') as f:
        f.write(TINY_AUDIO)
    path = osp.join(folder, 'tiny_tpavi.py')
    with open(path, 'w') as f:
        f.write(TINY_CONFIG.format(base=BASE, epochs=epochs,
                                   data_root=osp.join(folder, 'data')))
    return path
