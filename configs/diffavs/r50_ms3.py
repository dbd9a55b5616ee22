# Short name of diffavs_r50_1xb4-30e_ms3-224x224.py.
_base_ = './diffavs_r50_1xb4-30e_ms3-224x224.py'
