_base_ = './adam_15e.py'
train_cfg = dict(max_epochs=60)
