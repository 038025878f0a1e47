"""The package's version, in a module of its own: the CLI, the admin routes and ``mockfiles`` itself
read it without importing anything else."""

__version__ = "0.1.0"
