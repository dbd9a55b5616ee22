"""The DiffusionAVS configs: recipe, E-D swap by the neck entry, one
training iteration through tools/train.py (shrunk backbones)."""
import glob
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

from conftest import data_options, small_model_options

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# The AVSS configs are tested in test_avss_configs.py.
MAIN = sorted(c for c in glob.glob(osp.join(ROOT, 'configs', 'diffavs',
                                            'diffavs_*224x224.py'))
              if '_avss-' not in c)
SHORT = {'pvt_s4.py': 'pvtv2-b5_1xb4-15e_s4', 'pvt_ms3.py':
         'pvtv2-b5_1xb4-30e_ms3', 'r50_s4.py': 'r50_1xb4-15e_s4',
         'r50_ms3.py': 'r50_1xb4-30e_ms3'}


def train_one_epoch(path, work_dir, options) -> str:
    """Run tools/train.py; return its log, failing the test on error."""
    result = subprocess.run(
        [sys.executable, 'tools/train.py', path, '--work-dir', str(work_dir),
         '--cfg-options', *options],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    return log


def load(name):
    return Config.fromfile(osp.join(ROOT, 'configs', 'diffavs', name))


@pytest.mark.parametrize('short, long', SHORT.items())
def test_short_names_are_the_main_configs(short, long):
    assert load(short).to_dict() == load(
        f'diffavs_{long}-224x224.py').to_dict()


@pytest.mark.parametrize('config', MAIN, ids=osp.basename)
def test_recipe_and_neck_swap(config):
    cfg = Config.fromfile(config)
    assert cfg.optim_wrapper.optimizer == dict(
        type='Adam', lr=1e-4, weight_decay=0.0)
    assert cfg.train_cfg.max_epochs == (15 if '_s4-' in config else 30)
    neck = cfg.model.neck
    assert neck.type == 'LatentNeck' and neck.channels == 128
    assert neck.latent_model.type == 'DiffusionLatentModel'
    assert (neck.latent_dim, neck.latent_model.num_train_steps,
            neck.latent_model.num_inference_steps) == (24, 20, 10)
    assert neck.contrastive_loss.loss_weight == 0.1
    # The E-D counterpart differs by the neck entry (and C = 128).
    ed = Config.fromfile(osp.join(ROOT, 'configs', 'tpavi', osp.basename(
        config).replace('diffavs_', 'tpavi_')))
    ed_model, model = ed.model.to_dict(), cfg.model.to_dict()
    assert model['neck']['fusion']['in_channels'] == \
        ed_model['neck']['in_channels']
    for key in ('backbone', 'data_preprocessor'):
        assert model[key] == ed_model[key]


@pytest.mark.parametrize('config', ['pvt_ms3.py', 'r50_s4.py'])
def test_one_training_iteration(config, avsbench_root, tmp_path):
    path = osp.join('configs', 'diffavs', config)
    options = data_options(avsbench_root) + small_model_options(path) + [
        'train_cfg.max_epochs=1', 'default_hooks.logger.interval=1'
    ]
    log = train_one_epoch(path, tmp_path, options)
    assert 'loss_diff' in log and 'loss_contrastive' in log
    checkpoint = tmp_path / 'best_mIoU_epoch_1.pth'
    assert osp.isfile(checkpoint)
    if config != 'pvt_ms3.py':
        return
    # Several latent samples: the test overlays get an uncertainty image.
    show_dir = tmp_path / 'show'
    result = subprocess.run(
        [sys.executable, 'tools/test.py', path, str(checkpoint),
         '--work-dir', str(tmp_path / 'test'), '--show-dir', str(show_dir),
         '--cfg-options', *options, 'model.neck.num_samples=2',
         'model.neck.latent_model.num_inference_steps=2'],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    images = glob.glob(str(show_dir / 'vis_data' / 'vis_image' / '*.png'))
    uncertainty = [i for i in images if i.endswith('_uncertainty.png')]
    assert len(uncertainty) == len(images) - len(uncertainty) > 0


ABLATIONS = sorted(glob.glob(osp.join(ROOT, 'configs', 'diffavs', 'ablations',
                                      '*.py')))


def test_every_table_has_ablation_configs():
    tables = {osp.basename(c).split('_')[0] for c in ABLATIONS}
    assert tables == {'table3', 'table4', 'table5', 'table6', 'table8'}


@pytest.mark.parametrize(
    'config', [c for c in ABLATIONS if 'table8' not in c], ids=osp.basename)
def test_ablation_trains_one_iteration(config, avsbench_root, tmp_path):
    path = osp.relpath(config, ROOT)
    options = data_options(avsbench_root) + small_model_options(path) + [
        'train_cfg.max_epochs=1', 'val_cfg=None', 'val_dataloader=None',
        'val_evaluator=None', 'default_hooks.checkpoint.save_best=None'
    ]
    log = train_one_epoch(path, tmp_path, options)
    latent_loss = 'loss_kl' if 'cvae' in osp.basename(config) \
        else 'loss_diff'
    assert {k for k in ('loss_diff', 'loss_kl') if k in log} == {latent_loss}
    assert ('loss_contrastive' in log) == ('table6' in config)


def test_ms3_from_s4_loads_a_checkpoint():
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'diffavs', 'ablations',
                                   'table8_ms3-from-s4.py'))
    assert cfg.load_from.startswith(
        'work_dirs/diffavs_pvtv2-b5_1xb4-15e_s4-224x224/')
    assert cfg.model == load('pvt_ms3.py').model
