# Table 4 row 6: + PCL = CPM (57.25 / 70.54).
_base_ = './table4_ccdm.py'
model = dict(decode_head=dict(use_vcp=True, use_acp=True, use_pcl=True))
