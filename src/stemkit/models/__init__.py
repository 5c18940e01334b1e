"""Separation models: the interface, the registry and every architecture stemkit ships."""

from .base import SOURCES_4, SeparationModel
from .registry import build_model, load_model, model_table, register

__all__ = ["SOURCES_4", "SeparationModel", "build_model", "load_model", "model_table", "register"]
