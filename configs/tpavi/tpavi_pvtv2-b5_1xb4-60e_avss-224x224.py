# TPAVI on AVSBench-Semantic (71 classes), the AVSBench AVSS recipe
# (avs_scripts/avss/train.sh): 60 epochs, batch 4, Adam 1e-4 without weight
# decay, softmax cross-entropy per supervised frame plus 0.5 x the semantic
# audio-visual matching loss at all four levels (foreground: argmax != 0).
_base_ = [
    '../_base_/models/tpavi_pvtv2-b5.py', '../_base_/datasets/avss_224x224.py',
    '../_base_/schedules/adam_60e.py', '../_base_/default_runtime.py'
]
num_classes = 71
model = dict(
    # The AVSS reference aligns the audio without bias: its checkpoints have
    # no tpavi_b*.align_channel.bias, and padding frames' zero audio stays 0.
    neck=dict(align_bias=False),
    decode_head=dict(
        num_classes=num_classes,
        out_channels=num_classes,
        # Per-pixel mean over the supervised frames (all of one size) equals
        # the reference's mean of per-frame means.
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         avg_non_ignore=True, loss_weight=1.0)),
    auxiliary_loss=dict(type='AVMatchingLoss', loss_weight=0.5,
                        mode='semantic'))
# The reference validates from its epoch 15 (0-based) on; here from epoch 16
# (1-based, the same epoch), every epoch.
train_cfg = dict(val_begin=16)
