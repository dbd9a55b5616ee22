# AVSegFormer on AVSBench-Semantic (71 classes), the recipe of its
# config/avss/AVSegFormer_pvt2_avss.py and scripts/avss/loss.py: 30 epochs,
# batch 4, AdamW 2e-5, no backbone freezing; softmax cross-entropy per
# supervised frame (weight 1) plus 0.1 x Dice of the mixed mask feature's
# channel mean against the foreground (every class but background).
_base_ = [
    '../_base_/models/avsegformer_pvtv2-b5.py',
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
# The reference validates from its epoch 10 (0-based) on.
train_cfg = dict(val_begin=11)
