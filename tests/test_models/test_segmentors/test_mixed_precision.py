"""One training step of every model family under CPU bfloat16 autocast."""
import pytest
import torch

import mmavs  # noqa: F401
from conftest import TINY_AVSEGFORMER_HEAD_ARGS
from tiny_models import C, FPN_HEAD as FPN, LEVELS, TPAVI_NECK as TPAVI
from tiny_models import clip_batch, tiny_segmentor
FAMILIES = {
    'tpavi': dict(neck=TPAVI, decode_head=FPN,
                  auxiliary_loss=dict(type='AVMatchingLoss')),
    'avsegformer': dict(
        neck=None,
        decode_head=dict(type='AVSegFormerHead', in_channels=LEVELS,
                         **TINY_AVSEGFORMER_HEAD_ARGS)),
    'diffavs': dict(
        neck=dict(type='LatentNeck', channels=C, fusion=TPAVI,
                  latent_model=dict(type='DiffusionLatentModel',
                                    num_inference_steps=2),
                  contrastive_loss=dict(type='ContrastiveLoss'),
                  num_samples=2),
        decode_head=FPN),
    'cvae': dict(
        neck=dict(type='LatentNeck', channels=C, fusion=TPAVI,
                  latent_model=dict(type='CVAELatentModel'), num_samples=2),
        decode_head=FPN),
}


def build(family):
    return tiny_segmentor(**FAMILIES[family])


@pytest.mark.parametrize('family', sorted(FAMILIES))
@pytest.mark.parametrize('annotated', [(True, True), (True, False)],
                         ids=['all-annotated', 's4'])
def test_bf16_training_step_and_prediction(family, annotated):
    model = build(family)
    optimizer = torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=1e-3)
    data = model.data_preprocessor(clip_batch(annotated=list(annotated)),
                                   True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = model(**data, mode='loss')
    assert losses and all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert all(p.dtype == torch.float32 for p in model.parameters())
    optimizer.step()
    model.eval()
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        out = model(**model.data_preprocessor(clip_batch(), False),
                    mode='predict')
    probs = out[0].seg_logits.data
    assert probs.dtype == torch.float32 and torch.isfinite(probs).all()
