"""seedguard: back up and recover self-custody wallet keys."""

__version__ = "0.1.0"
