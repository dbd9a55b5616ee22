"""tools/analysis_tools/plot_logs.py on mmengine-style scalar logs."""
import json
import os.path as osp

import pytest
from PIL import Image

from conftest import load_tool


def load_plot_logs():
    return load_tool('tools/analysis_tools/plot_logs.py')


def train_line(epoch, it, loss):
    # The keys mmengine's LoggerHook writes for an mmavs training iteration.
    return dict(lr=0.001, data_time=0.01, loss=loss, loss_ce=loss / 4,
                loss_av_match=3 * loss / 4, time=0.5, epoch=epoch, iter=it,
                step=it)


def val_line(epoch, miou, fscore):
    return dict(mIoU=miou, Fscore=fscore, mIoU_protoB=miou + 0.1,
                fgIoU_protoB=miou - 0.01, Fscore_protoB=fscore,
                Fscore_framemean=fscore, data_time=0.01, time=0.2,
                step=epoch)


def write_run(work_dir, stamp, epochs):
    path = work_dir / stamp / 'vis_data' / 'scalars.json'
    path.parent.mkdir(parents=True)
    lines = []
    for epoch in epochs:
        for it in (10, 16):
            lines.append(train_line(epoch, (epoch - 1) * 16 + it,
                                    1.0 / epoch + it / 100))
        lines.append(val_line(epoch, 0.1 * epoch, 0.2 + 0.05 * epoch))
    path.write_text(''.join(json.dumps(line) + '\n' for line in lines))
    return path


def test_plots_latest_run_and_best_epochs(tmp_path, capsys):
    plot_logs = load_plot_logs()
    write_run(tmp_path, '20260101_000000', [1, 2])
    latest = write_run(tmp_path, '20260101_010000', [3, 4])
    written = plot_logs.main([str(tmp_path)])
    assert [osp.basename(p) for p in written] == ['losses.png', 'metrics.png']
    for path in written:
        assert osp.dirname(path) == str(tmp_path / 'plots')
        with Image.open(path) as image:
            assert image.format == 'PNG' and min(image.size) > 100
    output = capsys.readouterr().out
    assert f'read {latest}' in output
    assert 'best mIoU: 0.4000 at epoch 4' in output
    assert 'best Fscore: 0.4000 at epoch 4' in output


def test_all_runs_and_file_input(tmp_path, capsys):
    plot_logs = load_plot_logs()
    first = write_run(tmp_path, '20260101_000000', [1, 2])
    write_run(tmp_path, '20260101_010000', [3])
    train, val = plot_logs.load_scalars(
        plot_logs.find_scalar_files(str(tmp_path), all_runs=True))
    assert [r['step'] for r in val] == [1, 2, 3]
    assert len(train) == 6 and all('loss' in r for r in train)
    assert plot_logs.epoch_means(train, 'loss') == (
        [16, 32, 48], pytest.approx([1.13, 0.63, 1 / 3 + 0.13]))
    assert plot_logs.group_metrics(plot_logs.metric_keys(val)) == [
        ('IoU', ['mIoU', 'mIoU_protoB', 'fgIoU_protoB']),
        ('F-score', ['Fscore', 'Fscore_protoB', 'Fscore_framemean'])]
    out_dir = tmp_path / 'elsewhere'
    written = plot_logs.main([str(first), '--out-dir', str(out_dir)])
    assert sorted(p.name for p in out_dir.iterdir()) == [
        'losses.png', 'metrics.png']
    assert 'best mIoU: 0.2000 at epoch 2' in capsys.readouterr().out
    assert len(written) == 2


def test_clear_errors(tmp_path):
    plot_logs = load_plot_logs()
    with pytest.raises(SystemExit, match='no \\*/vis_data/scalars.json'):
        plot_logs.main([str(tmp_path)])
    bad = tmp_path / 'run' / 'vis_data' / 'scalars.json'
    bad.parent.mkdir(parents=True)
    bad.write_text('{"loss": 1, "iter": 1}\nnot json\n')
    with pytest.raises(SystemExit, match='scalars.json:2 is not JSON'):
        plot_logs.main([str(tmp_path)])
