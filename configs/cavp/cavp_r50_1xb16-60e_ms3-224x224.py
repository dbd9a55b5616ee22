# CAVP (ResNet-50) on AVSBench-object MS3 at 224, 2 classes (protocol A:
# CAVP README 55.82 / 67.14; protocol B: README 72.79 / 83.05, Table 1
# 62.39 / 73.62). The recipe of cavp_r50_1xb16-60e_s4-224x224.py.
_base_ = './cavp_r50_1xb16-60e_s4-224x224.py'
dataset_type = 'AVSBenchMS3Dataset'
train_dataloader = dict(dataset=dict(type=dataset_type))
val_dataloader = dict(dataset=dict(type=dataset_type))
test_dataloader = dict(dataset=dict(type=dataset_type))
