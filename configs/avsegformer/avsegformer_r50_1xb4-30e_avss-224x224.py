# AVSegFormer with ResNet-50 on AVSBench-Semantic: the recipe of
# avsegformer_pvtv2-b5_1xb4-30e_avss-224x224.py (see there).
_base_ = [
    '../_base_/models/avsegformer_r50.py',
    '../_base_/datasets/avss_224x224.py', '../_base_/schedules/adamw_30e.py',
    '../_base_/default_runtime.py'
]
num_classes = 71
model = dict(
    decode_head=dict(
        num_classes=num_classes,
        out_channels=num_classes,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         avg_non_ignore=True, loss_weight=1.0),
        mix_loss=dict(type='BinaryDiceLoss', loss_weight=0.1,
                      loss_name='loss_mix', foreground='nonzero')))
train_cfg = dict(val_begin=11)
