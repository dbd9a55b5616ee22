# The main job's TPAVI with the changes that make the synthetic model start to
# use the audio within the 10-minute budget (measured in the TPAVI README):
# 0.3362 test mIoU with true audio vs 0.3056 shuffled, against 0.2014 / 0.2000
# for the base config. The goal (>= 0.6, >= 0.15 gap) is not reached yet.
_base_ = './tpavi_r18_1xb4-20e_synthetic-ms3-64x64.py'
channels = 64
model = dict(
    # The reference dilations (3, 6, 12, 18) suit the 56x56 level of a 224
    # input; on the 16x16 level of a 64 input their taps land on other
    # objects and erase a pixel's object class (linear probe 80% -> 23%,
    # chance 20%), which TPAVI needs to match pixels with sounds.
    neck=dict(dilations=(1, 1, 1, 1)),
    # BCE plus Dice: each object sounds less than half the time, so under
    # BCE alone its probability stays below 0.5 long after the audio starts
    # to matter.
    decode_head=dict(loss_decode=[
        dict(type='CrossEntropyLoss', use_sigmoid=True, avg_non_ignore=True,
             loss_weight=1.0),
        dict(type='BinaryDiceLoss', loss_weight=1.0)
    ]),
    # From scratch the matching loss pulls the projected audio towards one
    # vector for all clips and slows TPAVI's zero-initialised gates 3-4x.
    auxiliary_loss=None)
# The gates open too late at the base lr: 2e-3, and 5x that for TPAVI.
optim_wrapper = dict(
    optimizer=dict(lr=2e-3),
    paramwise_cfg=dict(custom_keys={'neck.tpavi': dict(lr_mult=5.0)}))
# 512 training clips (64 are memorised); 7 epochs = 896 iterations.
data_root = 'data/synthetic_avsbench_512'
synthetic = dict(ms3_clips=dict(train=512, val=16, test=16))
_dataset = dict(data_root=data_root, synthetic=synthetic)
train_dataloader = dict(dataset=_dataset)
val_dataloader = dict(dataset=_dataset)
test_dataloader = dict(dataset=_dataset)
train_cfg = dict(max_epochs=7)
