# Short name of diffavs_r50_1xb4-15e_s4-224x224.py.
_base_ = './diffavs_r50_1xb4-15e_s4-224x224.py'
