import subprocess
import sys
import textwrap

import pytest

from mmavs.utils import mmcv_ext_stub


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=120)


def test_stub_lets_mmseg_import_and_names_missing_ops():
    result = run_python("""
        import sys
        import mmavs
        import mmseg.models  # imports mmcv.ops
        ext = sys.modules['mmcv._ext']
        assert getattr(ext, 'is_mmavs_stub', False), ext
        assert ext.__spec__.name == 'mmcv._ext'
        import torch
        from mmcv.ops import sigmoid_focal_loss
        from mmavs.utils import MissingCompiledOpError
        try:
            sigmoid_focal_loss(torch.zeros(2, 3), torch.zeros(2).long())
        except MissingCompiledOpError as err:
            print('ERROR:', err)
        """)
    assert result.returncode == 0, result.stderr
    assert 'sigmoid_focal_loss_forward' in result.stdout
    assert 'mmcv-lite' in result.stdout


def test_real_extension_is_left_alone():
    # A compiled extension imported before mmavs must survive the import.
    result = run_python("""
        import sys, types

        class CompiledExt(types.ModuleType):  # answers like a full build
            def __getattr__(self, name):
                if name.startswith('__'):
                    raise AttributeError(name)
                return lambda *args, **kwargs: 'compiled ' + name

        real = CompiledExt('mmcv._ext')
        sys.modules['mmcv._ext'] = real
        import mmavs
        import mmcv.ops
        assert sys.modules['mmcv._ext'] is real
        import mmcv.ops  # noqa: F401
        op_module = sys.modules['mmcv.ops.active_rotated_filter']
        print('kept', op_module.ext_module is real)
        """)
    assert result.returncode == 0, result.stderr
    assert 'kept True' in result.stdout


def test_real_extension_found_on_disk_is_not_replaced(monkeypatch):
    monkeypatch.delitem(sys.modules, 'mmcv._ext', raising=False)
    found = object()
    monkeypatch.setattr(mmcv_ext_stub.importlib.util, 'find_spec',
                        lambda name: found)
    assert mmcv_ext_stub.real_ext_available()
    assert mmcv_ext_stub.install_mmcv_ext_stub() is False
    assert 'mmcv._ext' not in sys.modules


def test_stub_hides_dunder_attributes():
    module = mmcv_ext_stub._MissingExtModule('mmcv._ext')
    with pytest.raises(AttributeError):
        module.__wrapped__
