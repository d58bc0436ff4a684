"""The package version, kept in one place so that `psremoting --version` needs no other import."""

__version__ = "0.1.0"
