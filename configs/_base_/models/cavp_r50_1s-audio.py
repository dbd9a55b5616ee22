# CAVP for 1-s audio per frame (AVSS, AVSBench-object; cavp.md §4, avss.md
# §4): output stride 16 (layer 3 keeps its stride, layer 4 dilated 2, 4, 8);
# mono 1-s waveforms → CAVP's spectrogram with 96 frames → a VGGish-shaped
# net from the VGGish weights whose last Linear (4096 → 304) is new (Kaiming
# normal, bias 0), its ReLU kept; trained (frozen=False).
_base_ = './cavp_r50.py'
model = dict(
    backbone=dict(
        visual=dict(strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2)),
        audio_frontend=dict(num_frames=96),
        audio=dict(
            _delete_=True,
            type='VGGish',
            frozen=False,
            out_channels=304,
            init_cfg=dict(type='PretrainedVGGish',
                          checkpoint='pretrained/vggish-10086976.pth',
                          drop_prefixes=['embeddings.4.'],
                          keep_missing=['embeddings.4.']))))
