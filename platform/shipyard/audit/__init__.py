"""The audit log: every change to what is registered and in production, append-only and hash-chained
(:mod:`.store`), with out-of-band changes in MLflow found on read (:mod:`.reconcile`)."""
