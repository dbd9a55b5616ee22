_base_ = [
    '../_base_/models/avsegformer_pvtv2-b5.py', '../_base_/datasets/avsbench_s4.py',
    '../_base_/schedules/adamw_30e.py', '../_base_/default_runtime.py'
]
train_dataloader = dict(batch_size=2)
# The visual backbone stays frozen for the first 5 epochs; DDP must then
# tolerate parameters without gradients.
custom_hooks = [
    dict(type='FreezeModuleHook', epochs=5, module='backbone.visual')
]
find_unused_parameters = True
