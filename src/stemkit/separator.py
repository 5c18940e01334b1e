"""The Python API: ``Separator(model).separate(audio, sr)`` / ``.separate_file(path)``.

Every input, an array or a file of any length, flows through one streaming pipeline::

    blocks (C_in, n) at the input rate
      -> downmix (> 2 channels) / match the model's channels -> resample to the model's rate (soxr)
      -> OverlapAdd (segments, window, batches, shifts, optional Wiener post-filter)
      -> resample stems back -> match the input's channels -> mixture consistency -> two-stem fold
      -> (mix, stems) blocks at the input rate

so memory stays flat in song length and every model gets the same treatment.
"""

from __future__ import annotations

import sys
import warnings
from collections import deque
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch

from .audio import AudioReader, AudioWriter, StreamResampler, adapt_channels, output_format
from .audio.formats import MAX_RATE, MIN_RATE, OutputFormat
from .engine import OverlapAdd, enforce_consistency
from .engine.overlap_add import auto_workers, even_segment
from .engine.allocator import tune_allocator
from .errors import AudioReadError, StemkitError
from .models.base import SeparationModel
from .models.registry import load_model, shipped_models

BLOCK = 1 << 16


def default_model_name() -> str:
    """The shipped trained model when there is one, else the classical separator."""
    return "default" if "default" in shipped_models() else "classical"


def track_name(path: str | Path) -> str:
    """``song.stem.mp4`` -> ``song``; ``My Song.flac`` -> ``My Song``."""
    name = Path(path).name
    for suffix in (".stem.mp4", ".stem.m4a"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return Path(name).stem


class Separator:
    """Separate audio with a registered model, a shipped model or a model folder.

    Args:
        model: name (``stemkit models`` lists them), model folder, or a ``SeparationModel``.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
        segment: seconds per chunk (default: the model's). overlap: fraction shared by chunks.
        shifts: time-shift test-time augmentation passes (Demucs' ``--shifts``).
        batch_size: segments per forward pass (default 1 on CPU, where batching saves no time but
            multiplies the model's temporary memory; 4 on GPU).
        window: ``hann`` (default), ``triangular`` or ``rectangular`` blending.
        consistency: make stems sum exactly to the input (default on; a one-stem model, e.g. one
            stage of a cascade, is left as it is: its stem alone is not meant to be the input).
        two_stems: keep STEM and write the rest as ``no_STEM``.
        wiener: multichannel Wiener post-filter iterations (0 = off).
        stems: only return these stems (informed models extract exactly these).
        progress: show a progress bar (default: when stderr is a terminal).
        workers: segments separated at once on worker threads, each at one intra-op thread
            (default: one per thread torch may use on CPU, at most 4, and 1 on GPU;
            ``STEMKIT_SEGMENT_WORKERS`` overrides the default). 1 turns it off; the stems are the
            same either way (those of the serial engine at one thread).
    """

    def __init__(
        self,
        model: str | SeparationModel | None = None,
        *,
        device: str = "cpu",
        segment: float | None = None,
        overlap: float | None = None,
        shifts: int = 0,
        batch_size: int | None = None,
        window: str = "hann",
        consistency: bool = True,
        two_stems: str | None = None,
        wiener: int = 0,
        stems: list[str] | None = None,
        progress: bool | None = None,
        seed: int = 0,
        allow_untrained: bool = False,
        workers: int | None = None,
    ):
        if isinstance(model, SeparationModel):
            self.model, self.name = model, getattr(model, "architecture", type(model).__name__)
        else:
            name = model or default_model_name()
            self.model = load_model(name, allow_untrained=allow_untrained)
            self.name = Path(name).name if ("/" in name or Path(name).exists()) else name
        self.device = _check_device(device)
        tune_allocator()  # segment temporaries stay in the heap: fewer page faults, same peak
        self.model.to(self.device).eval()
        if stems and hasattr(self.model, "with_sources"):
            self.model = self.model.with_sources(stems)
        unknown = [s for s in (stems or []) if s not in self.model.sources]
        if unknown:
            raise StemkitError(
                f"model {self.name!r} has no stem(s) {', '.join(unknown)}; it has {', '.join(self.model.sources)}"
            )
        self.selected = list(stems) if stems else None
        if two_stems is not None and two_stems not in self.model.sources:
            raise StemkitError(
                f"--two-stems {two_stems}: model {self.name!r} has stems {', '.join(self.model.sources)}"
            )
        self.two_stems = two_stems
        if segment is not None:
            if self.model.fixed_segment:
                raise StemkitError(f"model {self.name!r} works on fixed segments; --segment cannot change it")
            if segment <= 0:
                raise StemkitError("--segment must be positive")
        self.segment = int(round(segment * self.model.sample_rate)) if segment else self.model.segment
        if self.segment < 1:
            raise StemkitError(f"--segment {segment:g} s is shorter than one sample at "
                               f"{self.model.sample_rate} Hz")
        if overlap is None:
            overlap = self.model.default_overlap if self.model.default_overlap is not None else 0.25
        if not 0.0 <= overlap < 1.0:
            raise StemkitError("--overlap must be at least 0 and below 1")
        if shifts < 0:
            raise StemkitError("--shifts must be 0 or more")
        if batch_size is None:
            batch_size = 1 if self.device.type == "cpu" else 4
        if batch_size < 1:
            raise StemkitError("--batch-size must be at least 1")
        self.overlap, self.shifts, self.batch_size = overlap, shifts, batch_size
        self.window, self.consistency, self.seed = window, consistency, seed
        self.wiener = wiener
        self.progress = progress
        if workers is not None and workers < 1:
            raise StemkitError("--workers must be at least 1")
        try:
            self.workers = workers or auto_workers(self.device)
        except ValueError as exc:
            raise StemkitError(str(exc)) from None

    # -- facts ---------------------------------------------------------------------------------
    @property
    def sample_rate(self) -> int:
        return self.model.sample_rate

    @property
    def sources(self) -> list[str]:
        """Names of the stems this separator returns, in order."""
        if self.two_stems:
            return [self.two_stems, f"no_{self.two_stems}"]
        return self.selected or list(self.model.sources)

    # -- the pipeline --------------------------------------------------------------------------
    def _postprocess(self):
        if not self.wiener:
            return None
        from .dsp.wiener import wiener_postfilter

        def post(mix: torch.Tensor, stems: torch.Tensor) -> torch.Tensor:
            return torch.stack([wiener_postfilter(m, s, iterations=self.wiener) for m, s in zip(mix, stems)])

        return post

    def stream(
        self, blocks: Iterable[np.ndarray], sample_rate: int, total: int | None = None, label: str = ""
    ) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
        """Separate a stream of ``(C, n)`` blocks; yields ``(mix (C', m), {stem: (C', m)})`` in order.

        ``C'`` is 1 for mono input and 2 otherwise (more channels are downmixed with a warning).
        ``total``: the input length in samples when known: it drives the progress bar, and an input
        shorter than one segment is then processed as one segment of its own length (no padding).
        """
        if not MIN_RATE <= sample_rate <= MAX_RATE:
            raise AudioReadError(f"sample rate {sample_rate} Hz is outside {MIN_RATE}-{MAX_RATE} Hz", path=label or None)
        model = self.model
        S, Cm, sr_m = len(model.sources), model.channels, model.sample_rate
        segment = self.segment
        if total and not model.fixed_segment:
            # Equal segments that end at the input's end: no last segment of mostly padding, and a
            # short input is one segment of its own length. A few samples of margin absorb the
            # resampler's rounding of the length.
            at_model_rate = -(-total * sr_m // sample_rate) + (16 if sr_m != sample_rate else 0)
            segment = even_segment(at_model_rate, segment, self.overlap)
        ola = OverlapAdd(model, segment=segment, overlap=self.overlap, window=self.window,
                         batch_size=self.batch_size, shifts=self.shifts, seed=self.seed,
                         device=self.device, postprocess=self._postprocess(), workers=self.workers)
        up = StreamResampler(sample_rate, sr_m, Cm)
        down = StreamResampler(sr_m, sample_rate, S * Cm)
        pending_mix: deque[np.ndarray] = deque()
        pending_len = 0
        received = emitted = 0
        out_channels = None
        bar = _progress_bar(self.progress, total, label)

        def finish_stems(chunk: torch.Tensor, last: bool) -> np.ndarray:
            flat = chunk.reshape(S * Cm, -1).numpy()
            back = down(flat, last=last).reshape(S, Cm, -1)
            if out_channels != Cm:
                back = back.mean(axis=1, keepdims=True) if out_channels == 1 else np.repeat(back, 2, axis=1)
            return back

        def pair(stems: np.ndarray, final: bool):
            nonlocal pending_len, emitted
            if final:  # resampling rounds lengths: pad or trim to exactly the input length
                want = received - emitted
                if stems.shape[-1] < want:
                    stems = np.pad(stems, ((0, 0), (0, 0), (0, want - stems.shape[-1])))
                stems = stems[..., :want]
            n = stems.shape[-1]
            if n == 0:
                return None
            mix = _take(pending_mix, n)
            pending_len -= n
            emitted += n
            if self.consistency and stems.shape[0] > 1:
                stems = enforce_consistency(mix, stems, inplace=True)  # stems are this stream's own
            if not np.isfinite(stems).all():  # never hand out (or write) NaN stems
                _explain_non_finite(mix, self.name, label)
            if bar is not None:
                bar.update(n)
            return mix, self._fold(stems)

        try:
            for block in blocks:
                block = np.asarray(block, dtype=np.float32)
                if block.ndim == 1:
                    block = block[None]
                if not np.isfinite(block).all():
                    raise AudioReadError("contains NaN or Inf samples", path=label or None)
                if out_channels is None:
                    if block.shape[0] > 2:
                        warnings.warn(f"{label or 'input'}: downmixing {block.shape[0]} channels to stereo")
                    out_channels = 1 if block.shape[0] == 1 else 2
                orig = adapt_channels(block, out_channels)
                pending_mix.append(orig)
                pending_len += orig.shape[1]
                received += orig.shape[1]
                model_in = torch.from_numpy(up(adapt_channels(orig, Cm)))
                for chunk in ola.push(model_in):
                    out = pair(finish_stems(chunk, last=False), final=False)
                    if out:
                        yield out
            if received == 0:
                raise AudioReadError("contains no audio samples", path=label or None)
            tail = up.flush()
            tails = list(ola.push(torch.from_numpy(tail))) if tail.shape[1] else []
            tails += list(ola.finish())
            chunks = [finish_stems(c, last=False) for c in tails]
            chunks.append(finish_stems(torch.zeros(S, Cm, 0), last=True))
            rest = np.concatenate(chunks, axis=-1)
            out = pair(rest, final=True)
            if out:
                yield out
        finally:
            if bar is not None:
                bar.close()

    def _fold(self, stems: np.ndarray) -> dict[str, np.ndarray]:
        names = self.model.sources
        if self.two_stems:
            i = names.index(self.two_stems)
            others = np.delete(stems, i, axis=0).sum(axis=0)
            return {self.two_stems: stems[i], f"no_{self.two_stems}": others}
        keep = self.selected or names
        return {name: stems[names.index(name)] for name in keep}

    # -- conveniences ----------------------------------------------------------------------------
    def separate(self, audio: np.ndarray, sample_rate: int) -> dict[str, np.ndarray]:
        """``audio (C, T)`` or ``(T,)`` -> ``{stem: array}`` of the same shape convention."""
        audio = np.asarray(audio, dtype=np.float32)
        squeeze = audio.ndim == 1
        if audio.ndim == 1:
            audio = audio[None]
        if audio.ndim != 2 or audio.shape[1] == 0:
            raise AudioReadError("expected audio shaped (channels, samples) with at least one sample")
        blocks = (audio[:, i : i + BLOCK] for i in range(0, audio.shape[1], BLOCK))
        parts = [stems for _, stems in self.stream(blocks, sample_rate, total=audio.shape[1])]
        result = {k: np.concatenate([p[k] for p in parts], axis=-1) for k in self.sources}
        return {k: v[0] for k, v in result.items()} if squeeze else result

    def separate_file(self, path: str | Path) -> dict[str, np.ndarray]:
        """Decode ``path`` and return ``{stem: (C, T)}`` at the file's sample rate."""
        reader = AudioReader(path)
        parts = [s for _, s in self.stream(reader.blocks(BLOCK), reader.sample_rate,
                                            total=reader.info.frames, label=str(path))]
        return {k: np.concatenate([p[k] for p in parts], axis=-1) for k in self.sources}

    def separate_to_files(
        self,
        path: str | Path,
        folder: str | Path,
        *,
        fmt: OutputFormat | None = None,
        clip: str = "rescale",
    ) -> dict[str, Path]:
        """Stream ``path`` into ``folder/<stem><ext>``: written atomically, all stems or none."""
        fmt = fmt or output_format("wav16")
        folder = Path(folder)
        reader = AudioReader(path)
        targets = {s: folder / f"{s}{fmt.extension}" for s in self.sources}
        src = Path(path).resolve()
        if any(t.resolve() == src for t in targets.values()):
            raise StemkitError("refusing to overwrite the input file with a stem", path=str(path))
        out_ch = 1 if reader.channels == 1 else 2
        new_folder = not folder.exists()
        writers: dict[str, AudioWriter] = {}
        done: list[Path] = []
        try:
            writers = {s: AudioWriter(t, reader.sample_rate, out_ch, fmt, clip=clip) for s, t in targets.items()}
            for _, stems in self.stream(reader.blocks(BLOCK), reader.sample_rate,
                                         total=reader.info.frames, label=str(path)):
                for s, block in stems.items():
                    writers[s].write(block)
            for s in list(writers):
                done.append(writers.pop(s).close())
        except BaseException:
            for w in writers.values():
                w.abort()
            for p in done:  # all stems or none
                p.unlink(missing_ok=True)
            if new_folder:  # nor an empty track folder
                try:
                    folder.rmdir()
                except OSError:
                    pass
            raise
        return dict(zip(targets, done))


def save_stems(
    stems: dict[str, np.ndarray],
    folder: str | Path,
    sample_rate: int,
    *,
    fmt: OutputFormat | str = "wav16",
    clip: str = "rescale",
    mp3_bitrate: int = 320,
) -> dict[str, Path]:
    """Write ``{stem: (C, T)}`` as ``folder/<stem><ext>`` (atomic per file)."""
    from .audio import write_audio

    if isinstance(fmt, str):
        fmt = output_format(fmt, mp3_bitrate=mp3_bitrate)
    folder = Path(folder)
    return {
        name: write_audio(folder / f"{name}{fmt.extension}", audio, sample_rate, fmt=fmt, clip=clip)
        for name, audio in stems.items()
    }


#: Input peaks beyond this are taken for broken files when stems overflow (+120 dB over full scale).
EXTREME_PEAK = 1e6


def _explain_non_finite(mix: np.ndarray, model: str, label: str) -> None:
    """Stems came out NaN/Inf from finite input: absurd input levels (a user's file) or a model bug."""
    peak = float(np.abs(mix).max())
    if peak > EXTREME_PEAK:
        raise AudioReadError(f"sample values up to {peak:.3g} are too extreme to separate "
                             "(the stems overflow 32-bit floats)", path=label or None)
    raise RuntimeError(f"model {model!r} produced NaN or Inf stems from finite input (peak {peak:.3g})")


def _take(queue: deque, n: int) -> np.ndarray:
    """Pop exactly ``n`` samples from a deque of ``(C, m)`` blocks."""
    parts, got = [], 0
    while got < n:
        block = queue.popleft()
        need = n - got
        if block.shape[1] > need:
            parts.append(block[:, :need])
            queue.appendleft(block[:, need:])
            got = n
        else:
            parts.append(block)
            got += block.shape[1]
    return np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]


def _check_device(device: str) -> torch.device:
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise StemkitError(f"unknown device {device!r}; use cpu, cuda or cuda:N") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise StemkitError(f"device {device!r} requested but CUDA is not available")
    return dev


def _progress_bar(progress: bool | None, total: int | None, label: str):
    show = sys.stderr.isatty() if progress is None else progress
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="sample", unit_scale=True, desc=Path(label).name[:30] if label else "separate",
                leave=False, dynamic_ncols=True)
