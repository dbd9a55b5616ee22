# AVSegFormer* (cpm.md §2): plain ResNet-50 (torchvision layout, ImageNet),
# the audio as mel magnitudes (power 1, no log: CPM mixes magnitudes before
# the log, cpm.md §5) passed unencoded to CPMHead, which holds the audio
# ResNet-18 + FPN, TD-A, the pixel decoder and TD-V. Class-agnostic,
# 'linear' classifier; configs/cpm/*_cpm_* switch on CCDM, ACP, VCP, PCL.
model = dict(
    type='AVSSegmentor',
    data_preprocessor=dict(type='AVSDataPreprocessor'),
    backbone=dict(
        type='AudioVisualBackbone',
        visual=dict(
            type='ResNet',
            depth=50,
            num_stages=4,
            out_indices=(0, 1, 2, 3),
            style='pytorch',
            norm_cfg=dict(type='BN', requires_grad=True),
            norm_eval=False,
            init_cfg=dict(type='StrictPretrained',
                          checkpoint='pretrained/resnet50-19c8e357.pth',
                          drop_prefixes=['fc.'])),
        audio=None,
        # CAVP's front end with magnitudes: 16 kHz, n_fft 512, win 400,
        # hop 160, 64 mel bands 125-3800 Hz; 96 frames of 1 s.
        audio_frontend=dict(type='SpectrogramFrontEnd', power=1.0, log=None,
                            scale=1.0, num_frames=96)),
    neck=None,
    decode_head=dict(
        type='CPMHead',
        in_channels=[256, 512, 1024, 2048],
        num_classes=2,
        embed_dims=256,
        num_queries=100,
        num_heads=8,
        # Audio ResNet-18 from torchvision's ImageNet file, except conv1
        # (Ca input channels: kept at its random init) and the classifier.
        audio_encoder=dict(
            type='CPMAudioEncoder',
            depth=18,
            resnet_cfg=dict(init_cfg=dict(
                type='StrictPretrained',
                checkpoint='pretrained/resnet18-5c106cde.pth',
                drop_prefixes=['fc.', 'conv1.'],
                keep_missing=['conv1.']))),
        audio_channels=1,
        classifier='linear',
        inference='semantic'),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
