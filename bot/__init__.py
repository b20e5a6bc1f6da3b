"""careerbot's platform-neutral core: knowledge, engine, service and question log."""

__version__ = "0.1.0"
