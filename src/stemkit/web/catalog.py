"""Which models the page offers, and the card (sources, rate, scores) shown for each."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import StemkitError


@dataclass(frozen=True)
class ModelCard:
    """What the page tells about a model: from the registry and the model's ``model.json`` sidecar."""

    name: str
    family: str
    sources: tuple[str, ...]
    sample_rate: int | None
    description: str = ""
    metrics: dict = field(default_factory=dict)

    def markdown(self) -> str:
        lines = [f"**{self.name}** ({self.family}): {self.description}".rstrip(": "),
                 "",
                 f"- sources: {', '.join(self.sources) or '?'}",
                 f"- sample rate: {self.sample_rate or '?'} Hz"]
        scores = _flat_numbers(self.metrics)
        if scores:
            lines += ["", "| score | value |", "|---|---|"]
            lines += [f"| {k} | {v:g} |" for k, v in list(scores.items())[:16]]
        elif self.family == "neural":
            lines.append("- scores: none recorded in its sidecar")
        else:
            lines.append("- scores: none (a model without training; `stemkit evaluate` measures it)")
        return "\n".join(lines)


def servable_models(extra: list[str] | tuple[str, ...] = ()) -> dict[str, ModelCard]:
    """Cards for every model a page may run: shipped and weight-free models, oracles excluded.

    Oracles need the true stems, and neural architectures without weights would produce noise.
    ``extra`` adds model folders (``--model runs/x/best``) by path.
    """
    from ..models.registry import model_table, shipped_models
    from ..models.weights import read_sidecar

    shipped = shipped_models()
    cards: dict[str, ModelCard] = {}
    for row in model_table():
        if row["family"] == "oracle" or row["weights"] is False:
            continue
        metrics = read_sidecar(shipped[row["name"]]).get("metrics") or {} if row["name"] in shipped else {}
        cards[row["name"]] = ModelCard(row["name"], row["family"], tuple(row["sources"]), row["sample_rate"],
                                       row.get("description", ""), metrics)
    for name in extra:
        if name in cards:
            continue
        cards[name] = folder_card(name)
    return cards


def folder_card(name: str) -> ModelCard:
    """The card of a model named by the server's operator: a folder, or an architecture name."""
    from ..models.registry import architectures
    from ..models.weights import read_sidecar

    path = Path(name).expanduser()
    if path.exists():
        meta = read_sidecar(path)
        return ModelCard(path.name if path.is_dir() else path.stem, "neural", tuple(meta.get("sources", ())),
                         meta.get("sample_rate"), meta.get("description", ""), meta.get("metrics") or {})
    archs = architectures()
    if name in archs and archs[name].family != "neural":
        if archs[name].family == "oracle":
            raise StemkitError(f"model {name!r} is an oracle: it needs the true stems, so it cannot serve songs")
        from ..models.registry import load_model

        model = load_model(name)
        return ModelCard(name, archs[name].family, tuple(model.sources), model.sample_rate, archs[name].description)
    raise StemkitError(f"model {name!r} cannot be served: give a shipped or classical model name, or a trained "
                       "model folder (see `stemkit models`)")


def _flat_numbers(metrics: dict, prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat_numbers(value, name + "."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = value
    return out
