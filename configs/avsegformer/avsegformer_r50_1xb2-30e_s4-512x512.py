# Frames at 512x512; metrics at the annotated 224x224.
_base_ = [
    './avsegformer_r50_1xb2-30e_s4-224x224.py',
    '../_base_/datasets/avsbench_512x512.py'
]
train_dataloader = dict(dataset=dict(pipeline={{_base_.train_pipeline_512}}))
val_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline_512}}))
test_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline_512}}))
