_base_ = [
    '../_base_/models/diffavs_pvtv2-b5.py', '../_base_/datasets/avsbench_s4.py',
    '../_base_/schedules/adam_15e.py', '../_base_/default_runtime.py'
]
