_base_ = [
    '../_base_/models/tpavi_pvtv2-b5.py', '../_base_/datasets/avsbench_ms3.py',
    '../_base_/schedules/adam_30e.py', '../_base_/default_runtime.py'
]
# MS3 adds the audio-visual matching loss, weight 0.5.
model = dict(auxiliary_loss=dict(type='AVMatchingLoss', loss_weight=0.5))
