# AVSegFormer recipe: AdamW 2e-5, weight decay 0.01, validate every epoch.
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='AVSOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=2e-5, weight_decay=0.01))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=30, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
