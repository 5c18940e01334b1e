"""Peer models for issue 8's benchmark, as stemkit plugins: ``STEMKIT_PLUGINS=stemkit_peers``.

Importing this package registers ``openunmix_peer`` (Open-Unmix) and ``htdemucs_peer``
(HT-Demucs), so ``stemkit train``, ``stemkit separate`` and ``stemkit evaluate`` take them like the
built-in models. Needs ``benchmarks/peers`` on ``PYTHONPATH`` and the packages of
``benchmarks/peers/requirements.txt``; never torchaudio (a stub stands in for it).
"""

from .htdemucs_peer import HTDemucsPeer
from .openunmix_peer import OpenUnmixPeer

__all__ = ["HTDemucsPeer", "OpenUnmixPeer"]
