"""Costs: one cost model with several sources (spec estimate, MLflow usage, storage, cloud actuals).

The portal and the CLI use :mod:`shipyard.costs.api`; the other modules each hold one source or step.
"""
