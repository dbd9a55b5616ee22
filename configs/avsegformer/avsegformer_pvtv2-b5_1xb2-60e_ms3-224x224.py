_base_ = [
    '../_base_/models/avsegformer_pvtv2-b5.py', '../_base_/datasets/avsbench_ms3.py',
    '../_base_/schedules/adamw_60e.py', '../_base_/default_runtime.py'
]
train_dataloader = dict(batch_size=2)
# The visual backbone stays frozen for the first 10 epochs; DDP must then
# tolerate parameters without gradients.
custom_hooks = [
    dict(type='FreezeModuleHook', epochs=10, module='backbone.visual')
]
find_unused_parameters = True
