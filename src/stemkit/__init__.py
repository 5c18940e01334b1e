"""stemkit: separate music into stems; train, evaluate and compare separation models."""

__version__ = "0.1.0"

__all__ = ["Separator", "save_stems", "__version__"]


def __getattr__(name):
    # Lazy, so `import stemkit` stays fast and the CLI can report errors before heavy imports.
    if name in ("Separator", "save_stems"):
        from . import separator

        return getattr(separator, name)
    raise AttributeError(name)
