# TPAVI with ResNet-50 on AVSBench-Semantic: the recipe of
# tpavi_pvtv2-b5_1xb4-60e_avss-224x224.py (see there).
_base_ = [
    '../_base_/models/tpavi_r50.py', '../_base_/datasets/avss_224x224.py',
    '../_base_/schedules/adam_60e.py', '../_base_/default_runtime.py'
]
num_classes = 71
model = dict(
    neck=dict(align_bias=False),
    decode_head=dict(
        num_classes=num_classes,
        out_channels=num_classes,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         avg_non_ignore=True, loss_weight=1.0)),
    auxiliary_loss=dict(type='AVMatchingLoss', loss_weight=0.5,
                        mode='semantic'))
train_cfg = dict(val_begin=16)
