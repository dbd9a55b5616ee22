"""uncertainty_eval.py and latent_ablation.py on a tiny random DiffusionAVS
and synthetic clips."""
import json

import pytest
import torch
from mmengine.config import Config

from conftest import load_tool
from mmavs.apis import init_avs_model

CONFIG = ('configs/diffavs/'
          'diffavs_r18-w32_1xb4-13e_synthetic-ms3-512clips-64x64.py')


def tiny_options(root):
    options = {}
    for loader in ('train', 'val', 'test'):
        d = f'{loader}_dataloader.dataset'
        options.update({
            f'{d}.data_root': str(root), f'{d}.num_frames': 2,
            f'{d}.synthetic.size': 32, f'{d}.synthetic.num_frames': 2,
            f'{d}.synthetic.ms3_clips.train': 2,
            f'{d}.synthetic.ms3_clips.val': 2,
            f'{d}.synthetic.ms3_clips.test': 3,
            f'{loader}_dataloader.batch_size': 2})
    options['model.backbone.visual.base_channels'] = 8
    options['model.neck.fusion.in_channels'] = [8, 16, 32, 64]
    return options


@pytest.fixture(scope='module')
def tiny_diffavs(tmp_path_factory):
    root = tmp_path_factory.mktemp('unc')
    options = tiny_options(root / 'syn')
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(options)
    torch.manual_seed(0)
    model = init_avs_model(cfg)
    # Spread the random logits so that both classes are predicted.
    model.decode_head.conv_seg.weight.data.mul_(100)
    checkpoint = root / 'tiny.pth'  # the frozen VGGish too: loads strictly
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, checkpoint)
    return [f'{k}={v}'.replace(' ', '') for k, v in options.items()], \
        str(checkpoint)


def test_uncertainty_eval_reports_auroc_and_calibration(tiny_diffavs,
                                                        tmp_path):
    options, checkpoint = tiny_diffavs
    tool = load_tool('tools/analysis_tools/uncertainty_eval.py')
    out = tmp_path / 'unc.json'
    result = tool.main([CONFIG, checkpoint, '--num-samples', '3', '--bins',
                        '5', '--device', 'cpu', '--json', str(out),
                        '--cfg-options', *options])
    assert result['pixels'] == 3 * 2 * 32 * 32  # test clips x frames x H x W
    assert result['num_samples'] == 3
    for key in ('auroc_uncertainty', 'auroc_entropy', 'ece'):
        assert 0 <= result[key] <= 1
    assert len(result['calibration']) == 5
    assert sum(r['count'] for r in result['calibration']) == result['pixels']
    assert json.loads(out.read_text())['ece'] == pytest.approx(result['ece'])


def test_uncertainty_eval_needs_a_latent_neck_and_samples(tiny_diffavs):
    options, checkpoint = tiny_diffavs
    tool = load_tool('tools/analysis_tools/uncertainty_eval.py')
    with pytest.raises(SystemExit, match='no latent neck'):
        tool.main(['configs/tpavi/'
                   'tpavi_r18-w32_1xb4-13e_synthetic-ms3-512clips-64x64.py',
                   checkpoint])
    with pytest.raises(SystemExit, match='at least 2'):
        tool.main([CONFIG, checkpoint, '--num-samples', '1',
                   '--cfg-options', *options])


def test_latent_ablation_rows(tiny_diffavs, tmp_path):
    options, checkpoint = tiny_diffavs
    tool = load_tool('tools/analysis_tools/latent_ablation.py')
    out = tmp_path / 'ablation.json'
    rows = tool.main([CONFIG, checkpoint, '--steps', '1', '10', '30',
                      '--samples', '1', '2', '--device', 'cpu', '--json',
                      str(out), '--cfg-options', *options])
    plan = [(r['source'], r['steps'], r['samples']) for r in rows]
    assert plan == [('sampled', 10, 1), ('oracle', 10, 1), ('zero', 10, 1),
                    ('noise', 10, 1), ('other_clip', 10, 1),
                    ('sampled', 1, 1),  # 30 > K = 20 is left out
                    ('sampled', 10, 2)]
    for row in rows:
        assert 0 <= row['mIoU'] <= 1 and 0 <= row['Fscore'] <= 1
    assert json.loads(out.read_text())['rows'] == rows


def test_latent_ablation_batches_hold_two_clips():
    tool = load_tool('tools/analysis_tools/latent_ablation.py')
    assert tool.batch_size_for(3, 2) == 3  # not 2 + 1
    assert tool.batch_size_for(64, 4) == 4
    assert tool.batch_size_for(9, 1) == 3  # 9 = 2·4 + 1 = 3·3
