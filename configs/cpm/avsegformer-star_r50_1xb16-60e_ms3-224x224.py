# AVSegFormer* on AVSBench-object MS3 at 224 (Table 1 baseline row).
_base_ = './avsegformer-star_r50_1xb16-60e_s4-224x224.py'
dataset_type = 'AVSBenchMS3Dataset'
train_dataloader = dict(dataset=dict(type=dataset_type))
val_dataloader = dict(dataset=dict(type=dataset_type))
test_dataloader = dict(dataset=dict(type=dataset_type))
