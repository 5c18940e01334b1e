"""Training: config, Lightning module and data, optimisers and schedules, run folders, export.

``stemkit train`` and ``stemkit export`` are thin wrappers over :func:`stemkit.train.run.train` and
:func:`stemkit.train.export.export_run`; see docs/training.md.
"""
