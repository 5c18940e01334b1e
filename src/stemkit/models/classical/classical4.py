"""``classical``: a four-stem separator from DSP alone, stemkit's default until a trained model ships.

One STFT, four soft masks that partition every bin (so the stems sum to the input):

1. **drums**: the percussive part of a harmonic/percussive median-filter split. Below
   ``kick_band`` Hz a second split with a much longer time kernel decides, because a kick's
   boom lasts a few hundred ms and a short kernel would call it harmonic and hand it to the bass.
2. **bass**: the harmonic part below ``bass_cutoff`` Hz (raised-cosine crossover).
3. **vocals**: the harmonic part above the crossover, weighted by how *vocal* each bin looks:
   the mean of its REPET-SIM foreground mask (does not repeat) and its centre mask (is panned to
   the centre). On the real clips the mean beat either cue alone and their product.
4. **other**: what is left.

An optional EM multichannel Wiener pass (``wiener_iterations``) re-filters the mixture with the
four masked estimates as source models.
"""

from __future__ import annotations

import numpy as np

from ..base import SOURCES_4
from ..registry import register
from .centre import centre_mask, centre_terms, is_effectively_mono, is_mono_from_terms
from .hpss import hpss_masks, kernel_sizes, pool_bins, repeat_groups
from .masking import MaskingSeparator, band_weight, stack_masks
from .repet import repet_sim_foreground_mask

VOCAL_CUES = ("repet", "centre", "both", "mean")


@register("classical", description="Four stems from DSP alone: HPSS drums, low-band bass, REPET/centre vocals")
class Classical4(MaskingSeparator):
    """drums / bass / other / vocals by masking, no training (see the module docstring).

    Knobs: ``harmonic_seconds`` / ``percussive_hz`` (HPSS kernels), ``kick_band`` /
    ``kick_seconds`` (the long-kernel split of the low band), ``bass_cutoff`` / ``bass_width``
    (crossover), ``vocal_cue`` (``"mean"``, ``"repet"``, ``"centre"`` or ``"both"``), ``vocal_gain``
    (scales the vocal score), ``centre_sharpness``, ``neighbours`` and ``min_separation_seconds``
    (REPET-SIM), ``hpss_pool`` (bins pooled for the full-band split), ``mask_pool`` (every mask
    computed on groups of that many adjacent bins, then repeated over them: the centre cue's
    terms summed over the group, the kick band's split too; 1 = full resolution), ``n_fft`` /
    ``hop``, ``segment_seconds``, ``wiener_iterations``.
    """

    residual_index = 2  # "other"

    def __init__(
        self,
        *,
        sample_rate: int = 44100,
        n_fft: int = 4096,
        hop: int = 1024,
        harmonic_seconds: float = 0.1,
        percussive_hz: float = 350.0,
        kick_band: float = 300.0,
        kick_seconds: float = 0.8,
        bass_cutoff: float = 200.0,
        bass_width: float = 100.0,
        vocal_cue: str = "mean",
        vocal_gain: float = 1.0,
        centre_sharpness: float = 2.0,
        neighbours: int = 9,
        min_separation_seconds: float = 1.0,
        hpss_pool: int = 2,
        mask_pool: int = 1,
        segment_seconds: float = 30.0,
        wiener_iterations: int = 0,
    ):
        super().__init__(
            sources=SOURCES_4,
            sample_rate=sample_rate,
            segment_seconds=segment_seconds,
            n_fft=n_fft,
            hop=hop,
            wiener_iterations=wiener_iterations,
        )
        if vocal_cue not in VOCAL_CUES:
            raise ValueError(f"vocal_cue must be one of {VOCAL_CUES}, got {vocal_cue!r}")
        self.kernels = kernel_sizes(sample_rate, n_fft, hop, harmonic_seconds, percussive_hz)
        self.kick_kernels = kernel_sizes(sample_rate, n_fft, hop, kick_seconds, percussive_hz)
        self.kick_band = float(kick_band)
        self.hpss_pool = max(1, int(hpss_pool))
        self.mask_pool = max(1, int(mask_pool))
        self.bass_cutoff, self.bass_width = float(bass_cutoff), float(bass_width)
        self.vocal_cue = vocal_cue
        self.vocal_gain = float(vocal_gain)
        self.centre_sharpness = float(centre_sharpness)
        self.neighbours = int(neighbours)
        self.min_separation = max(1, int(round(min_separation_seconds * sample_rate / hop)))

    def drum_mask(self, magnitude: np.ndarray, pool: int = 1) -> np.ndarray:
        """Percussive mask ``(F', N)`` of the channel-mean ``magnitude (F', N)``, whose rows are
        groups of ``pool`` bins (``pool_bins``) or single bins (``pool=1``)."""
        # Full band on groups of ``hpss_pool`` bins (2: 21.5 Hz at 4096 / 44.1 kHz): the median
        # filters cost in proportion to the bins, and drums need no finer resolution.
        _, drums = hpss_masks(magnitude, self.kernels[0], self._bins_kernel(self.kernels[1], pool),
                              pool=max(1, self.hpss_pool // pool), percussive_only=True)
        low = self.group_frequencies(pool)[: magnitude.shape[0]] < self.kick_band
        if low.sum() >= 3:
            # Only the low band, so the long kernel costs little.
            _, kick = hpss_masks(magnitude[low], self.kick_kernels[0],
                                 self._bins_kernel(self.kick_kernels[1], pool), percussive_only=True)
            drums[low] = kick
        return drums

    @staticmethod
    def _bins_kernel(bins: int, pool: int) -> int:
        """A median length in bins for rows of ``pool`` bins: odd, >= 3 (as ``hpss_masks`` does)."""
        return bins if pool == 1 else max(3, (bins // pool) | 1)

    def group_frequencies(self, pool: int) -> np.ndarray:
        """Centre frequency in Hz of each group of ``pool`` adjacent bins (the last may be shorter)."""
        freqs = self.frequencies
        if pool == 1:
            return freqs
        starts = np.arange(0, len(freqs), pool)
        ends = np.minimum(starts + pool, len(freqs)) - 1
        return ((freqs[starts] + freqs[ends]) / 2).astype(np.float32)

    def vocal_score(self, spec: np.ndarray, harmonic_magnitude: np.ndarray, pool: int = 1) -> np.ndarray:
        """How vocal each bin (or group of ``pool`` bins, as the rows of ``harmonic_magnitude``)
        looks, ``(F', N)`` in [0, 1]: the REPET-SIM foreground, the centre mask, their product
        (``both``: bins must pass both) or their mean (``mean``)."""
        terms = None
        if self.vocal_cue != "repet" and spec.shape[0] == 2:
            terms = centre_terms(spec)  # the centre cue's inputs also answer "is it mono?"
            mono = is_mono_from_terms(*terms)
            if pool > 1:  # cross- and auto-spectra summed over each group: a coherence over its bins
                terms = (pool_bins(terms[0], pool), pool_bins(terms[1], pool))
        else:
            mono = is_effectively_mono(spec)
        cue = "repet" if mono else self.vocal_cue
        cues = []
        if cue != "centre":
            cues.append(repet_sim_foreground_mask(harmonic_magnitude, self.neighbours, self.min_separation))
        if cue != "repet":
            cues.append(centre_mask(spec, self.centre_sharpness, terms=terms))
        if len(cues) == 1:
            score = cues[0]
        else:
            score = np.mean(cues, axis=0) if cue == "mean" else np.prod(cues, axis=0)
        if self.vocal_gain == 1.0:
            return score  # every cue is already in [0, 1]
        return np.clip(self.vocal_gain * score, 0.0, 1.0)

    def masks(self, spec: np.ndarray) -> np.ndarray:
        """``(C, F, N)`` complex -> ``(4, 1, F, N)`` masks in SOURCES_4 order, summing to 1.

        With ``mask_pool`` p > 1 every step runs on groups of p bins (magnitudes and the centre
        cue's terms summed over the group) and the four masks are repeated over the group's bins
        at the end: the mask arithmetic costs 1/p, and a mask needs no finer resolution above the
        lowest bins (21.5 Hz per bin at 2048 / 44.1 kHz)."""
        pool = self.mask_pool
        absolute = np.abs(spec)
        # The channel mean as one addition and a halving: the same float32 numbers as ``mean(axis=0)``
        # (which adds the two rows, then divides by 2) without a reduction over a length-2 axis.
        magnitude = np.multiply(absolute[0] + absolute[1], 0.5) if spec.shape[0] == 2 else absolute.mean(axis=0)
        if pool > 1:
            magnitude = pool_bins(magnitude, pool)
        drums = self.drum_mask(magnitude, pool)
        harmonic = 1.0 - drums
        above = band_weight(self.group_frequencies(pool)[: magnitude.shape[0]], self.bass_cutoff, self.bass_width)[:, None]
        score = self.vocal_score(spec, harmonic * magnitude, pool)
        # The four masks written straight into their stacked array (frames-major, like stack_masks),
        # with the operations of ``drums, harmonic * (1 - above), clip(1 - drums - bass - vocals),
        # harmonic * above * score`` in their order: the same numbers, no per-mask temporaries.
        rows, frames = drums.shape
        stacked = np.empty((4, frames, rows), dtype=np.float32).transpose(0, 2, 1)  # (4, F', N)
        drums_out, bass, other, vocals = stacked
        np.copyto(drums_out, drums)
        np.multiply(harmonic, 1.0 - above, out=bass)
        np.multiply(harmonic, above, out=vocals)
        vocals *= score
        np.subtract(1.0, drums, out=other)
        other -= bass
        other -= vocals
        np.clip(other, 0.0, 1.0, out=other)
        stacked = stacked[:, None]
        return stacked if pool == 1 else repeat_groups(stacked, pool, spec.shape[-2])
