# Table 4 row 3: + CCDM + VCP (55.79 / 68.17).
_base_ = './table4_ccdm.py'
model = dict(decode_head=dict(use_vcp=True))
