# Short name of diffavs_pvtv2-b5_1xb4-15e_s4-224x224.py.
_base_ = './diffavs_pvtv2-b5_1xb4-15e_s4-224x224.py'
