"""The registry service: the one platform-owned path by which model versions are registered and
``challenger``/``champion`` move. It alone holds the registry service account; CLI, CI and portal
call it over HTTP as signed-in identities (:mod:`.client`)."""
