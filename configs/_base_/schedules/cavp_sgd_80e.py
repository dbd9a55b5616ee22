# CAVP's recipe (cavp.md §7): SGD momentum 0.9 at base lr 1e-3 for the
# backbone and the fusion (projector included), 10x for the ASPP / low-level
# reduction (neck.decoder) and the head convs + classifier (decode_head);
# conv / linear weights decayed, biases and norm parameters not. The audio
# net has its own Adam (lr 1e-3, constant, no weight decay): two optimisers
# in mmengine's OptimWrapperDict, one backward, each steps its parameters
# (AVSSegmentor.train_step). Poly decay per iteration, power 0.9, floor 1e-8,
# no warm-up. Batch 16 on one device (the reference: 8 x 2 GPUs).
base_lr = 1e-3
max_epochs = 80
optim_wrapper = dict(
    constructor='AVSMultiOptimWrapperConstructor',
    main=dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=base_lr, momentum=0.9,
                       weight_decay=5e-4),
        paramwise_cfg=dict(
            bias_decay_mult=0.0, norm_decay_mult=0.0,
            module_lr_mult={'neck.decoder': 10.0, 'decode_head': 10.0})),
    audio=dict(
        type='OptimWrapper',
        optimizer=dict(type='Adam', lr=base_lr, weight_decay=0.0),
        modules=['backbone.audio']))
param_scheduler = dict(
    main=[dict(type='PolyLR', power=0.9, eta_min=1e-8, by_epoch=True,
               begin=0, end=max_epochs, convert_to_iter_based=True)],
    audio=[])
# Validation every 5 epochs, every epoch from 50 on (the reference's
# schedule; it selected on the test split, mmavs on val).
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_interval=5, dynamic_intervals=[(50, 1)])
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
