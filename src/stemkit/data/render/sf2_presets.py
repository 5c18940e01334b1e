"""What the note cache needs to know about a SoundFont preset: its regions' key/velocity ranges,
exclusive classes (hi-hat choke groups) and whether velocity changes more than the gain.

Reads only the ``pdta`` (preset data) chunk of an ``.sf2``/``.sf3`` file (SoundFont 2.04 layout;
``.sf3`` only compresses the samples), and builds regions the way TinySoundFont does: a preset
zone's key/velocity range filters its instrument's zones, the instrument's global zone gives
defaults, and the exclusive class comes from the instrument level only. Presets are indexed as
TinySoundFont sorts them (by bank, then program, then file order), so ``channel_get_preset_index``
of the synthesizer picks the same preset here.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache

# SoundFont 2.04 generator numbers used here.
_MOD_ENV_TO_PITCH, _MOD_ENV_TO_FILTER, _ATTACK_MOD_ENV = 7, 11, 26
_INSTRUMENT, _KEY_RANGE, _VEL_RANGE, _SAMPLE_ID, _EXCLUSIVE_CLASS = 41, 43, 44, 53, 57
_NO_TIME = -11950  # timecents below this are "no time" for TinySoundFont


@dataclass(frozen=True)
class Region:
    """One sample zone of a preset as TinySoundFont plays it."""

    lokey: int
    hikey: int
    lovel: int
    hivel: int
    group: int  # exclusive class; 0 = none
    velocity_shapes_sound: bool  # modulation envelope (pitch/filter) whose attack scales with velocity

    def plays(self, key: int, velocity: int) -> bool:
        return self.lokey <= key <= self.hikey and self.lovel <= velocity <= self.hivel


def _chunks(data: bytes, start: int, end: int):
    pos = start
    while pos + 8 <= end:
        cid, size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        yield cid, pos + 8, size
        pos += 8 + size + (size & 1)


def _read_pdta(path: str) -> dict[bytes, bytes]:
    with open(path, "rb") as f:
        head = f.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"sfbk":
            raise ValueError("not a SoundFont (RIFF sfbk) file")
        while True:  # walk the top-level LIST chunks, skipping the (large) sample data
            hdr = f.read(12)
            if len(hdr) < 8:
                raise ValueError("SoundFont has no pdta chunk")
            cid, size = hdr[:4], struct.unpack_from("<I", hdr, 4)[0]
            if cid == b"LIST" and hdr[8:12] == b"pdta":
                body = f.read(size - 4)
                return {c: body[a:a + s] for c, a, s in _chunks(body, 0, len(body))}
            f.seek(size + (size & 1) - (4 if len(hdr) == 12 else 0), 1)


def _records(raw: bytes, fmt: str) -> list[tuple]:
    step = struct.calcsize(fmt)
    return [struct.unpack_from(fmt, raw, i) for i in range(0, len(raw) - step + 1, step)]


def _gens(gens: list[tuple], first: int, last: int) -> list[tuple[int, bytes]]:
    return [(op, amount) for op, amount in gens[first:last]]


def _short(amount: bytes) -> int:
    return struct.unpack("<h", amount)[0]


def _word(amount: bytes) -> int:
    return struct.unpack("<H", amount)[0]


def _instrument_regions(insts, ibags, igens, index: int, preset_zone: dict) -> list[Region]:
    regions = []
    bag_lo, bag_hi = insts[index][1], insts[index + 1][1]
    base = {"lokey": 0, "hikey": 127, "lovel": 0, "hivel": 127, "group": 0,
            _MOD_ENV_TO_PITCH: 0, _MOD_ENV_TO_FILTER: 0, _ATTACK_MOD_ENV: -12000}
    for b in range(bag_lo, bag_hi):
        zone = dict(base)
        had_sample = False
        for op, amount in _gens(igens, ibags[b][0], ibags[b + 1][0]):
            if op == _KEY_RANGE:
                zone["lokey"], zone["hikey"] = amount[0], amount[1]
            elif op == _VEL_RANGE:
                zone["lovel"], zone["hivel"] = amount[0], amount[1]
            elif op == _EXCLUSIVE_CLASS:
                zone["group"] = _word(amount)
            elif op in (_MOD_ENV_TO_PITCH, _MOD_ENV_TO_FILTER, _ATTACK_MOD_ENV):
                zone[op] = _short(amount)
            elif op == _SAMPLE_ID:
                had_sample = True
                p = preset_zone
                if zone["hikey"] < p["lokey"] or zone["lokey"] > p["hikey"]:
                    continue
                if zone["hivel"] < p["lovel"] or zone["lovel"] > p["hivel"]:
                    continue
                mod_env = (zone[_MOD_ENV_TO_PITCH] + p[_MOD_ENV_TO_PITCH] != 0
                           or zone[_MOD_ENV_TO_FILTER] + p[_MOD_ENV_TO_FILTER] != 0)
                attack = zone[_ATTACK_MOD_ENV] + p[_ATTACK_MOD_ENV]
                regions.append(Region(max(zone["lokey"], p["lokey"]), min(zone["hikey"], p["hikey"]),
                                      max(zone["lovel"], p["lovel"]), min(zone["hivel"], p["hivel"]),
                                      zone["group"], bool(mod_env and attack >= _NO_TIME)))
        if b == bag_lo and not had_sample:  # the instrument's global zone
            base = zone
    return regions


@lru_cache(maxsize=8)
def preset_regions(path: str) -> tuple[tuple[Region, ...], ...]:
    """Regions of every preset of the SoundFont at ``path``, in TinySoundFont's preset order."""
    pdta = _read_pdta(path)
    phdrs = _records(pdta[b"phdr"], "<20sHHHIII")
    pbags = _records(pdta[b"pbag"], "<HH")
    pgens = _records(pdta[b"pgen"], "<H2s")
    insts = _records(pdta[b"inst"], "<20sH")
    ibags = _records(pdta[b"ibag"], "<HH")
    igens = _records(pdta[b"igen"], "<H2s")
    presets = []
    for i in range(len(phdrs) - 1):  # the last record is the terminal "EOP"
        _, program, bank, bag_lo = phdrs[i][:4]
        bag_hi = phdrs[i + 1][3]
        glob = {"lokey": 0, "hikey": 127, "lovel": 0, "hivel": 127,
                _MOD_ENV_TO_PITCH: 0, _MOD_ENV_TO_FILTER: 0, _ATTACK_MOD_ENV: 0}
        regions: list[Region] = []
        for b in range(bag_lo, bag_hi):
            zone = dict(glob)
            had_instrument = False
            for op, amount in _gens(pgens, pbags[b][0], pbags[b + 1][0]):
                if op == _KEY_RANGE:
                    zone["lokey"], zone["hikey"] = amount[0], amount[1]
                elif op == _VEL_RANGE:
                    zone["lovel"], zone["hivel"] = amount[0], amount[1]
                elif op in (_MOD_ENV_TO_PITCH, _MOD_ENV_TO_FILTER, _ATTACK_MOD_ENV):
                    zone[op] = _short(amount)
                elif op == _INSTRUMENT and _word(amount) < len(insts) - 1:
                    had_instrument = True
                    regions += _instrument_regions(insts, ibags, igens, _word(amount), zone)
            if b == bag_lo and not had_instrument:  # the preset's global zone
                glob = zone
        presets.append(((bank, program, i), tuple(regions)))
    presets.sort(key=lambda p: p[0])
    return tuple(r for _, r in presets)
