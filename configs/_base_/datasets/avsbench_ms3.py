# AVSBench-Object MS3: 296 / 64 / 64 clips of 5 frames at 224x224.
_base_ = './avsbench_s4.py'
dataset_type = 'AVSBenchMS3Dataset'
train_dataloader = dict(dataset=dict(type=dataset_type))
val_dataloader = dict(dataset=dict(type=dataset_type))
test_dataloader = dict(dataset=dict(type=dataset_type))
