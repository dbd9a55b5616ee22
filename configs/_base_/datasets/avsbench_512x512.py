# Frames resized to 512x512 for the network (AVSegFormer's released code);
# evaluation keeps the masks at their annotated size, so the metrics follow
# the AVSBench protocol. Used through {{_base_.train_pipeline_512}}.
scale_512 = (512, 512)
train_pipeline_512 = [
    dict(type='LoadAVSFrames'),
    dict(type='LoadAVSMasks'),
    dict(type='LoadAVSAudio'),
    dict(type='ResizeAVSClip', scale=scale_512, resize_masks=True),
    dict(type='PackAVSInputs'),
]
test_pipeline_512 = [
    dict(t, resize_masks=False) if t['type'] == 'ResizeAVSClip' else t
    for t in train_pipeline_512
]
