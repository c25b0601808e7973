"""Foundation shared by every layer: error types (:mod:`errors`) and atomic file writes (:mod:`atomic`).

Imports nothing else of ``balance_metrics``.
"""
