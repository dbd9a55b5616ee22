# Table 4 row 5: + CCDM + VCP + ACP (56.41 / 69.07).
_base_ = './table4_ccdm.py'
model = dict(decode_head=dict(use_vcp=True, use_acp=True))
