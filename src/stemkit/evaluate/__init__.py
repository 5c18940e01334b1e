"""Evaluation: score separations with BSS Eval v4 (museval), MDX SDR and seed 002's signal
difference; write museval-compatible reports and plots; compare evaluations side by side.

Entry points: :func:`stemkit.evaluate.runner.evaluate_model` (``stemkit evaluate``) and
:func:`stemkit.evaluate.compare.compare_results` (``stemkit compare``).
"""
