"""Crash-safe training checkpoints: mmengine's ``CheckpointHook``, atomic.

mmengine 0.10.7 writes a checkpoint in place (``LocalBackend.put`` opens the
final name and writes), deletes the previous regular checkpoint *before*
writing its successor, deletes the previous best checkpoint before writing the
new one, and writes ``last_checkpoint`` in place. A kill or a full disk in
between leaves no resumable file, a ``last_checkpoint`` naming a deleted file,
or a truncated file under a valid-looking name.

:class:`AtomicCheckpointHook` keeps mmengine's options, file names and
message-hub keys (so its checkpoints resume with mmengine and the other way
round) and changes only how files reach the disk:

1. every file (regular, best, ``last_checkpoint``) is written to a hidden
   temporary file in the same folder, flushed, fsynced and renamed over its
   final name (``os.replace`` is atomic on POSIX), then the folder is fsynced;
2. an epoch whose validation follows writes its regular checkpoint once, after
   that validation, so the checkpoint that ``last_checkpoint`` names always
   knows the best score and best file of its own epoch (mmengine writes it
   before the validation and again after a new best);
3. files are deleted only after the checkpoint that replaces them and
   ``last_checkpoint`` are on disk; the names still to delete travel in that
   checkpoint's message hub (``obsolete_ckpts``), so a run killed between the
   commit and the deletion deletes them when it resumes;
4. a failed save removes its temporary file, keeps every previous file and
   raises :class:`CheckpointSaveError` naming the file and the cause.

Non-local backends (``backend_args`` naming a remote store) fall back to
mmengine's behaviour with a warning: rename is not atomic there.
"""
import glob
import os.path as osp
from typing import List, Optional

from mmengine.dist import is_main_process
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmseg.registry import HOOKS

from mmavs.utils.atomic_file import (TMP_PREFIX, atomic_output, commit,
                                     discard, fsync_dir, tmp_name)

OBSOLETE_KEY = 'obsolete_ckpts'


class CheckpointSaveError(RuntimeError):
    """A checkpoint could not be written; the previous files are intact."""


def atomic_write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` so that it holds the old or the new text."""
    try:
        with atomic_output(path) as tmp_path:
            with open(tmp_path, 'w') as f:
                f.write(text)
    except OSError as err:
        raise CheckpointSaveError(
            f'could not write {path}: {err}; it still names the '
            'previous checkpoint') from err


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """:class:`mmengine.hooks.CheckpointHook` with crash-safe writes.

    Takes every argument of ``CheckpointHook``; see the module docstring for
    what changes. The checkpoints hold what mmengine's do: the model's
    ``state_dict`` (see ``docs/en/architecture.md`` for the model), optimizer,
    schedulers, message hub and meta.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # (step, meta) of a regular save deferred to after the validation.
        self._pending: Optional[tuple] = None
        self._obsolete: List[str] = []

    # ----------------------------------------------------------- set-up
    def before_train(self, runner) -> None:
        super().before_train(runner)
        self._atomic = isinstance(self.file_backend, LocalBackend)
        if not self._atomic:
            print_log(
                f'AtomicCheckpointHook: {self.out_dir} is not a local folder; '
                'checkpoints are written in place as mmengine does',
                logger='current', level=30)
            return
        if not is_main_process():
            return
        # Partial files of a killed save, and files a killed run had
        # replaced but not yet deleted (named in the resumed message hub).
        for path in glob.glob(osp.join(glob.escape(self.out_dir),
                                       TMP_PREFIX + '*')):
            discard(path)
        hub = runner.message_hub
        obsolete = hub.runtime_info.get(OBSOLETE_KEY) or []
        self._delete(runner, obsolete)
        hub.update_info(OBSOLETE_KEY, [])

    # ------------------------------------------------ when to save
    def _validation_follows(self, runner) -> bool:
        """Whether the loop validates right after the current epoch / iter."""
        loop = runner.train_loop
        if runner.val_loop is None:
            return False
        if self.by_epoch:
            done, last = runner.epoch + 1, getattr(loop, 'max_epochs', None)
        else:
            done, last = runner.iter + 1, getattr(loop, 'max_iters', None)
        begin = getattr(loop, 'val_begin', 1)
        interval = getattr(loop, 'val_interval', None)
        if not interval:
            return False
        return done >= begin and (done % interval == 0 or done == last)

    def _save_checkpoint(self, runner) -> None:
        if self.by_epoch:
            step = runner.epoch + 1
            meta = dict(epoch=step, iter=runner.iter)
        else:
            step = runner.iter + 1
            meta = dict(epoch=runner.epoch, iter=step)
        if self._validation_follows(runner):
            # Saved once after the validation, with its best score.
            self._pending = (step, meta)
            return
        self._save_checkpoint_with_step(runner, step, meta)

    def _flush_pending(self, runner) -> None:
        """Save a deferred checkpoint whose validation did not happen."""
        if self._pending is not None:
            step, meta = self._pending
            self._save_checkpoint_with_step(runner, step, meta)

    def before_train_epoch(self, runner) -> None:
        self._flush_pending(runner)

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._flush_pending(runner)

    def after_train(self, runner) -> None:
        self._flush_pending(runner)
        super().after_train(runner)

    def after_val_epoch(self, runner, metrics) -> None:
        if not hasattr(self, 'file_backend'):
            return  # a validation outside training (runner.val())
        if len(metrics) == 0:
            runner.logger.warning(
                'Since `metrics` is an empty dict, the behavior to save '
                'the best checkpoint will be skipped in this evaluation.')
        else:
            self._save_best_checkpoint(runner, metrics)
        self._flush_pending(runner)

    # ------------------------------------------------ writing
    def _write(self, runner, filename: str, **kwargs) -> str:
        """``runner.save_checkpoint`` to ``filename`` through a temp file."""
        final_path = self.file_backend.join_path(self.out_dir, filename)
        if not self._atomic:
            runner.save_checkpoint(self.out_dir, filename,
                                   self.file_client_args,
                                   backend_args=self.backend_args, **kwargs)
            return final_path
        tmp_path = osp.join(self.out_dir, tmp_name(filename))
        try:
            runner.save_checkpoint(self.out_dir, osp.basename(tmp_path),
                                   self.file_client_args,
                                   backend_args=self.backend_args, **kwargs)
            if is_main_process():
                commit(tmp_path, final_path)
        except BaseException as err:  # a partial file never stays behind
            if is_main_process():
                discard(tmp_path)
            if isinstance(err, Exception):
                raise CheckpointSaveError(
                    f'could not save checkpoint {final_path}: '
                    f'{type(err).__name__}: {err}. The partial file was '
                    'removed; the previous checkpoints and last_checkpoint '
                    'are unchanged.') from err
            raise
        return final_path

    def _delete(self, runner, paths: List[str]) -> None:
        keep = {self.last_ckpt, getattr(self, 'best_ckpt_path', None)}
        keep.update((getattr(self, 'best_ckpt_path_dict', None) or
                     {}).values())
        for path in paths:
            if not path or path in keep:
                continue
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                self.file_backend.rmtree(path)  # deepspeed saves folders
            else:
                continue
            runner.logger.info(f'Removed the outdated checkpoint {path}')
        if self._atomic and paths:
            fsync_dir(self.out_dir)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        self._pending = None
        obsolete = list(self._obsolete)
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                old = self.keep_ckpt_ids.popleft()
                obsolete.append(self.file_backend.join_path(
                    self.out_dir, self.filename_tmpl.format(old)))
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        hub = runner.message_hub
        hub.update_info('last_ckpt', self.last_ckpt)
        # What this checkpoint replaces: deleted once it is on disk, or by
        # the resumed run if this one dies first.
        hub.update_info(OBSOLETE_KEY, obsolete)
        self._write(runner, filename,
                    save_optimizer=self.save_optimizer,
                    save_param_scheduler=self.save_param_scheduler,
                    meta=meta, by_epoch=self.by_epoch, **self.args)
        if not is_main_process():
            return
        save_file = osp.join(runner.work_dir, 'last_checkpoint')
        if self._atomic:
            atomic_write_text(save_file, self.last_ckpt)
        else:
            with open(save_file, 'w') as f:
                f.write(self.last_ckpt)
        self._delete(runner, obsolete)
        self._obsolete = []
        hub.update_info(OBSOLETE_KEY, [])

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """Write a new best file; its predecessor waits for the next commit.

        The regular checkpoint saved right after (deferred, or written again
        as mmengine does after a new best) records the new best and deletes
        the old one once it is on disk.
        """
        if not self.save_best:
            return
        if self.by_epoch:
            ckpt_filename = self.filename_tmpl.format(runner.epoch)
            cur_type, cur_time = 'epoch', runner.epoch
        else:
            ckpt_filename = self.filename_tmpl.format(runner.iter)
            cur_type, cur_time = 'iter', runner.iter
        meta = dict(epoch=runner.epoch, iter=runner.iter)
        if 'auto' in self.key_indicators:
            self._init_rule(self.rules, [list(metrics.keys())[0]])
        updated = False
        single = len(self.key_indicators) == 1
        for key_indicator, rule in zip(self.key_indicators, self.rules):
            key_score = metrics[key_indicator]
            if single:
                score_key, path_key = 'best_score', 'best_ckpt'
                previous = self.best_ckpt_path
            else:
                score_key = f'best_score_{key_indicator}'
                path_key = f'best_ckpt_{key_indicator}'
                previous = self.best_ckpt_path_dict[key_indicator]
            best_score = runner.message_hub.runtime_info.get(
                score_key, self.init_value_map[rule])
            if key_score is None or not self.is_better_than[key_indicator](
                    key_score, best_score):
                continue
            updated = True
            name = f'best_{key_indicator}_{ckpt_filename}'.replace('/', '_')
            path = self.file_backend.join_path(self.out_dir, name)
            self._write(runner, name, save_optimizer=False,
                        save_param_scheduler=False, meta=meta, by_epoch=False)
            runner.message_hub.update_info(score_key, key_score)
            runner.message_hub.update_info(path_key, path)
            if single:
                self.best_ckpt_path = path
            else:
                self.best_ckpt_path_dict[key_indicator] = path
            if previous and previous != path:
                self._obsolete.append(previous)
            runner.logger.info(
                f'The best checkpoint with {key_score:0.4f} {key_indicator} '
                f'at {cur_time} {cur_type} is saved to {name}.')
        if updated and self._pending is None and self.last_ckpt is not None:
            # As mmengine: the regular checkpoint records the new best.
            self._pending = (cur_time, meta)
        if updated and self._pending is None:
            # No regular checkpoint yet: nothing refers to the old best.
            if is_main_process():
                self._delete(runner, self._obsolete)
            self._obsolete = []
