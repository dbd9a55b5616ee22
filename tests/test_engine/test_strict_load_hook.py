"""StrictLoadHook: strict by default, the --no-vggish converter exception,
non-strict only warns."""
from types import SimpleNamespace

import pytest
from mmengine.runner import BaseLoop
from torch import nn

from mmavs.engine.hooks import StrictLoadHook
from mmavs.utils import CheckpointMismatchError


class Loop(BaseLoop):

    def run(self):
        pass


def fake_runner(training, resume=False):
    model = nn.Module()
    model.backbone = nn.Module()
    model.backbone.audio = nn.Linear(2, 2)
    model.head = nn.Linear(2, 1)
    loop = Loop(SimpleNamespace(), []) if training else None
    return SimpleNamespace(model=model, _train_loop=loop, _resume=resume,
                           _load_from='ckpt.pth')


def without_audio(runner, **meta):
    state = {k: v for k, v in runner.model.state_dict().items()
             if not k.startswith('backbone.audio.')}
    return dict(state_dict=state, meta=meta)


def test_missing_keys_fail_unless_non_strict():
    runner = fake_runner(training=False)
    checkpoint = without_audio(runner, config='configs/x.py')
    with pytest.raises(CheckpointMismatchError,
                       match=r'ckpt.pth does not match the model: 2 missing '
                       r'keys .*backbone.audio.weight.*made for configs/x.py'):
        StrictLoadHook().after_load_checkpoint(runner, checkpoint)
    StrictLoadHook(strict=False).after_load_checkpoint(runner, checkpoint)
    StrictLoadHook(allow_missing_prefixes=['backbone.audio.']
                   ).after_load_checkpoint(runner, checkpoint)


def test_converted_without_vggish_loads_for_training_only():
    meta = dict(converter='tools/model_converters/tpavi2mmavs.py',
                vggish=None)
    training = fake_runner(training=True)
    StrictLoadHook().after_load_checkpoint(
        training, without_audio(training, **meta))
    for runner in (fake_runner(training=False),
                   fake_runner(training=True, resume=True)):
        with pytest.raises(CheckpointMismatchError):
            StrictLoadHook().after_load_checkpoint(
                runner, without_audio(runner, **meta))


def test_config_file_written_into_saved_meta():
    runner = SimpleNamespace(cfg=SimpleNamespace(filename='configs/a/b.py'))
    checkpoint = dict(meta={}, state_dict={})
    StrictLoadHook().before_save_checkpoint(runner, checkpoint)
    assert checkpoint['meta']['config_file'] == 'configs/a/b.py'
