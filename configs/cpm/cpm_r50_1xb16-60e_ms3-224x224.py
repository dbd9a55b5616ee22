# CPM on AVSBench-object MS3 at 224 (Table 1).
_base_ = './avsegformer-star_r50_1xb16-60e_ms3-224x224.py'
model = dict(
    decode_head=dict(classifier='gmm', num_components=3, use_acp=True,
                     use_vcp=True, use_pcl=True, cpm_weight=1.0))
