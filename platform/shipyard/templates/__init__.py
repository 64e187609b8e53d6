"""The project template: baking a project from it (`bake.py`), publishing it as a versioned git
repository (`repo.py`), and each project's template version and updates (`fleet.py`)."""
