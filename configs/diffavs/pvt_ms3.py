# Short name of diffavs_pvtv2-b5_1xb4-30e_ms3-224x224.py.
_base_ = './diffavs_pvtv2-b5_1xb4-30e_ms3-224x224.py'
