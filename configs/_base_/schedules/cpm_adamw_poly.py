# CPM recipe (cpm.md §8, all [decision]s): AdamW 1e-4, weight decay 0.05,
# visual backbone lr x0.1, poly decay (power 0.9) per iteration after a
# 1,500-iteration linear warm-up, gradient clipping at max-norm 0.01.
# Set train_cfg.max_epochs and the poly scheduler's `end` together.
max_epochs = 60
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='AVSOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05),
    clip_grad=dict(max_norm=0.01, norm_type=2),
    paramwise_cfg=dict(custom_keys={'backbone.visual': dict(lr_mult=0.1)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=1500),
    dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=True, begin=0,
         end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# Matching stability (CPM's motivation, cpm.md §4 STS): the flip rate of the
# queries' matched classes on a fixed training batch, logged every 50
# iterations, and the STS per epoch. Logging only.
custom_hooks = [dict(type='MatchingStabilityHook', interval=50)]
