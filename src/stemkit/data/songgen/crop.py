"""Cut a time window out of a PrettyMIDI (notes, bends, controllers, lyrics shifted to 0)."""

from __future__ import annotations



def crop_midi(pm, start: float, duration: float):
    """A copy of ``pm`` holding what sounds in ``[start, start + duration)``, moved to time 0.

    Notes already sounding at ``start`` are kept from 0; the last controller value before the window
    is carried to time 0 so sustain pedals and volumes stay right.
    """
    import pretty_midi

    end = start + duration
    out = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    out.time_signature_changes = [pretty_midi.TimeSignature(ts.numerator, ts.denominator, 0.0)
                                  for ts in pm.time_signature_changes[:1]]
    for inst in pm.instruments:
        new = pretty_midi.Instrument(inst.program, inst.is_drum, inst.name)
        for n in inst.notes:
            if n.end > start and n.start < end:
                new.notes.append(pretty_midi.Note(n.velocity, n.pitch, max(0.0, n.start - start),
                                                  min(end, n.end) - start))
        last_cc = {}
        for cc in sorted(inst.control_changes, key=lambda c: c.time):
            if cc.time < start:
                last_cc[cc.number] = cc
            elif cc.time < end:
                new.control_changes.append(pretty_midi.ControlChange(cc.number, cc.value, cc.time - start))
        new.control_changes[:0] = [pretty_midi.ControlChange(c.number, c.value, 0.0) for c in last_cc.values()]
        new.pitch_bends = [pretty_midi.PitchBend(b.pitch, b.time - start) for b in inst.pitch_bends
                           if start <= b.time < end]
        if new.notes:
            out.instruments.append(new)
    out.lyrics = [pretty_midi.Lyric(ly.text, ly.time - start) for ly in pm.lyrics if start <= ly.time < end]
    return out
