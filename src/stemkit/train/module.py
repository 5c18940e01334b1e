"""The LightningModule: any :class:`SeparationModel`, one loss, weight penalties, whole-track validation.

Training step: ``(mix (B, C, T), stems (B, S, C, T))`` -> optional augmentation on the stems (the
mixture is re-summed so it stays consistent) -> the loss on the tensors it asks for (waveforms from
``model(mix)``, or the model's native ``training_outputs``/``training_targets``) + L1/L2 penalties.
With ``data.unlabelled`` (semi-supervised MixIT), ``weight * mixit_loss`` on the waveform outputs
for mixtures of two unlabelled chunks is added; the step's pairs are a function of the step.

Validation step: one whole held-out track, separated by :func:`stemkit.engine.separate_tensor`
exactly as ``stemkit separate`` does, scored with the MDX SDR per source; logged as ``val/sdr`` (mean
over sources, averaged over tracks) and ``val/sdr_<source>``.
"""

from __future__ import annotations

import lightning.pytorch as pl
import numpy as np
import torch

from ..errors import ConfigError, StemkitError
from ..evaluate.metrics import mdx_sdr
from ..losses import Loss
from ..models.base import SeparationModel
from .config import TrainConfig
from .optim import build_optimizer, build_schedule


class TrainingDiverged(StemkitError):
    """The loss became NaN or infinite (a learning rate too high, usually)."""


def fit_channels(x: torch.Tensor, channels: int, dim: int) -> torch.Tensor:
    """Average to mono or duplicate to stereo along ``dim`` so data matches the model."""
    if x.shape[dim] == channels:
        return x
    if channels == 1:
        return x.mean(dim=dim, keepdim=True)
    return x.expand(*[channels if d == dim % x.dim() else -1 for d in range(x.dim())])


class SeparationTask(pl.LightningModule):
    """Trains ``model`` with ``loss`` at learning rate ``lr`` (the refine stage passes ``use_schedule=False``)."""

    def __init__(
        self, model: SeparationModel, loss: Loss, cfg: TrainConfig, *, lr: float, max_steps: int, use_schedule: bool = True,
        unlabelled=None,
    ):
        super().__init__()
        self.model, self.loss, self.cfg = model, loss, cfg
        #: :class:`stemkit.data.loader_unlabelled.UnlabelledChunks` for the MixIT term (None: off)
        self.unlabelled = unlabelled
        self.lr, self.max_steps, self.use_schedule = lr, max_steps, use_schedule
        self.inputs = cfg.loss.inputs or loss.inputs
        from ..data.augment import build_augment

        self.augment = build_augment(cfg.augment, seed=cfg.seed)
        self._check_inputs()

    def _check_inputs(self) -> None:
        if self.inputs == "waveform":
            return
        for method in ("training_outputs", "training_targets"):
            if not callable(getattr(self.model, method, None)):
                arch = getattr(self.model, "architecture", type(self.model).__name__)
                raise ConfigError(
                    f"loss.inputs: loss {self.loss.name!r} needs the model's {self.inputs!r} outputs, "
                    f"but model {arch!r} has no {method}()"
                )

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        return self.model(mix)

    # -- loss ---------------------------------------------------------------------------------
    def compute_loss(self, mix: torch.Tensor, stems: torch.Tensor) -> torch.Tensor:
        """``mix (B, C, T)``, ``stems (B, S, C, T)`` at the model's channels -> scalar loss."""
        if self.inputs == "waveform":
            return self.loss(self.model(mix), stems, mix)
        outputs = self.model.training_outputs(mix)
        targets = self.model.training_targets(stems)
        if self.inputs not in outputs or self.inputs not in targets:
            raise ConfigError(
                f"loss.inputs: the model gives {sorted(outputs)} outputs and {sorted(targets)} targets, "
                f"not {self.inputs!r}"
            )
        return self.loss(outputs[self.inputs], targets[self.inputs], outputs.get("mix_" + self.inputs, mix))

    def penalty(self) -> torch.Tensor | None:
        """Seed 000's L1/L2 weight regularisation (on weight tensors, not biases or norms)."""
        l1, l2 = self.cfg.penalty.l1, self.cfg.penalty.l2
        if not (l1 or l2):
            return None
        weights = [p for p in self.model.parameters() if p.requires_grad and p.dim() > 1]
        total = torch.zeros((), device=self.device)
        for w in weights:
            if l1:
                total = total + l1 * w.abs().sum()
            if l2:
                total = total + l2 * w.pow(2).sum()
        return total

    def take_off(self, mix: torch.Tensor, stems: torch.Tensor, dim: int = 1):
        """Split loaded stems into trained ones and ``mixture_minus`` ones, removed from the mixture.

        ``mix (B, C, T)``, ``stems (B, S + R, C, T)`` (``dim=1``; ``dim=0`` for one unbatched track).
        """
        trained = len(self.cfg.sources)
        if stems.shape[dim] == trained:
            return mix, stems
        extra = stems.narrow(dim, trained, stems.shape[dim] - trained)
        return mix - extra.sum(dim=dim), stems.narrow(dim, 0, trained)

    def _prepare(self, mix: torch.Tensor, stems: torch.Tensor):
        mix, stems = self.take_off(mix.float(), stems.float())
        stems = fit_channels(stems.float(), self.model.channels, dim=2)
        if self.augment is not None:
            # What the sources leave of the mixture (everything, when training one stem) is augmented
            # as one more source, so the re-summed mixture still contains it.
            mix = fit_channels(mix.float(), self.model.channels, dim=1)
            rest = (mix - stems.sum(dim=1)).unsqueeze(1)
            augmented = self.augment(torch.cat([stems, rest], dim=1))
            stems, mix = augmented[:, :-1], augmented.sum(dim=1)
        return fit_channels(mix.float(), self.model.channels, dim=1), stems

    def mixit_term(self) -> torch.Tensor:
        """MixIT loss of this step's mixtures of unlabelled pairs, through the waveform outputs."""
        from ..losses.mixit import mixit_loss

        u = self.cfg.data.unlabelled
        rank, world = self.global_rank, self.trainer.world_size
        pairs = self.unlabelled.batch(self.global_step, u.batch_size, rank=rank, world=world, gain_db=u.gain_db)
        pairs = pairs.to(self.device)  # (B, 2, C, T) at the model's rate and channels
        return mixit_loss(self.model(pairs.sum(dim=1)), pairs, tau_db=u.tau_db, floor_db=u.floor_db)

    def training_step(self, batch, batch_idx):
        mix, stems = self._prepare(*batch)
        loss = self.compute_loss(mix, stems)
        mixit = self.mixit_term() if self.unlabelled is not None else None
        for value in (loss, mixit):
            if value is not None and not torch.isfinite(value):
                raise TrainingDiverged(
                    f"training diverged: the loss is {value.item()} at step {self.global_step}; lower optimizer.lr "
                    "or set grad_clip and start a new run (or --resume from the last finite checkpoint)"
                )
        self.log("train/loss", loss, prog_bar=True, batch_size=mix.shape[0])
        if mixit is not None:
            self.log("train/mixit", mixit, prog_bar=True, batch_size=self.cfg.data.unlabelled.batch_size)
            loss = loss + self.cfg.data.unlabelled.weight * mixit
        penalty = self.penalty()
        if penalty is not None:
            self.log("train/penalty", penalty, batch_size=mix.shape[0])
            loss = loss + penalty
        return loss

    # -- validation ---------------------------------------------------------------------------
    def validation_step(self, batch, batch_idx):
        from ..engine import separate_tensor

        name, mix, stems = batch
        mix, stems = self.take_off(torch.as_tensor(np.asarray(mix), dtype=torch.float32),
                                   torch.as_tensor(np.asarray(stems), dtype=torch.float32), dim=0)
        mix = fit_channels(mix, self.model.channels, dim=0)
        stems = fit_channels(stems, self.model.channels, dim=1)
        estimate = separate_tensor(self.model, mix.to(self.device), device=self.device)
        estimate = estimate[..., : stems.shape[-1]].cpu()
        sdr = mdx_sdr(stems.numpy(), estimate.numpy())
        self.log("val/sdr", float(sdr.mean()), batch_size=1, prog_bar=True, sync_dist=True)
        for source, value in zip(self.model.sources, sdr):
            self.log(f"val/sdr_{source}", float(value), batch_size=1, sync_dist=True)
        if self.inputs == "waveform":
            loss = self.loss(estimate.unsqueeze(0), stems.unsqueeze(0), mix.cpu().unsqueeze(0))
            self.log("val/loss", loss, batch_size=1, sync_dist=True)

    # -- optimisation -------------------------------------------------------------------------
    def configure_optimizers(self):
        optimizer = build_optimizer(self.model.parameters(), self.cfg.optimizer, lr=self.lr)
        monitor = self.cfg.early_stopping.monitor if self.cfg.early_stopping else "val/sdr"
        if not self.use_schedule:  # the refine stage keeps a constant, lower rate
            return optimizer
        schedule = build_schedule(
            optimizer, self.cfg.schedule, max_steps=self.max_steps, val_every=self.cfg.val_every, monitor=monitor
        )
        if schedule is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": schedule}
