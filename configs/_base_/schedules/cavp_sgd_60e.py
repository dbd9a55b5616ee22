# CAVP's recipe (cavp_sgd_80e.py) for 60 epochs and weight decay 1e-4
# (AVSBench-object at 224, cavp.md §7).
_base_ = './cavp_sgd_80e.py'
max_epochs = 60
optim_wrapper = dict(main=dict(optimizer=dict(weight_decay=1e-4)))
param_scheduler = dict(
    main=[dict(type='PolyLR', power=0.9, eta_min=1e-8, by_epoch=True,
               begin=0, end=max_epochs, convert_to_iter_based=True)],
    audio=[])
train_cfg = dict(max_epochs=max_epochs)
