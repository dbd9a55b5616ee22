"""The AVSegFormer building blocks against torch's own attention."""
import torch
from torch import nn

from mmavs.models.utils.audio_channel_mixer import AudioChannelMixer
from mmavs.models.utils.audio_query_generator import AudioQueryGenerator
from mmavs.models.utils.query_decoder import QueryDecoder


def test_channel_mixer_is_a_sigmoid_gate_from_audio_attention():
    torch.manual_seed(0)
    mixer = AudioChannelMixer(16, num_heads=4)
    attention = nn.MultiheadAttention(16, 4, bias=False, batch_first=True)
    with torch.no_grad():
        attention.in_proj_weight.copy_(
            torch.cat([mixer.q_proj.weight, mixer.kv_proj.weight]))
        attention.out_proj.weight.copy_(mixer.proj.weight)
    feature, audio = torch.randn(2, 16, 3, 5), torch.randn(2, 1, 16)
    pixels = feature.flatten(2).transpose(1, 2)
    gate = (attention(audio, pixels, pixels)[0] + mixer.proj.bias).sigmoid()
    expected = feature * gate.transpose(1, 2)[..., None]
    torch.testing.assert_close(mixer(feature, audio), expected)


def test_query_generator_reads_the_audio():
    torch.manual_seed(0)
    generator = AudioQueryGenerator(num_queries=5, num_layers=2,
                                    embed_dims=16, num_heads=4, ffn_dims=8)
    assert generator.layers[0].self_attn.in_proj_bias is None
    a, b = torch.randn(2, 1, 16), torch.randn(2, 1, 16)
    out = generator(a)
    assert out.shape == (2, 5, 16)
    assert (out - generator(b)).abs().max() > 1e-4


def test_decoder_ignores_padded_memory():
    torch.manual_seed(0)
    decoder = QueryDecoder(2, embed_dims=16, num_heads=4, ffn_dims=8,
                           dropout=0.0)
    query, memory = torch.randn(1, 3, 16), torch.randn(1, 7, 16)
    padded = torch.cat([memory, torch.randn(1, 2, 16) * 10], 1)
    mask = torch.zeros(1, 9, dtype=torch.bool)
    mask[:, 7:] = True
    torch.testing.assert_close(decoder(query, padded, mask),
                               decoder(query, memory))
