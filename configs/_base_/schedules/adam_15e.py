# AVSBench recipe: Adam 1e-4, no weight decay, validate every epoch.
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='AVSOptimWrapperConstructor',
    optimizer=dict(type='Adam', lr=1e-4, weight_decay=0.0))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=15, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
