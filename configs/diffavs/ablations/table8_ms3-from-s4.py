# Table VIII: MS3 initialised from an S4 model: train ../pvt_s4.py first, then
# point load_from at its best checkpoint (--cfg-options load_from=PATH).
_base_ = '../pvt_ms3.py'
load_from = 'work_dirs/diffavs_pvtv2-b5_1xb4-15e_s4-224x224/best_mIoU.pth'
