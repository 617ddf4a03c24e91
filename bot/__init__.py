"""consent-bot: consent decisions of citizen assemblies, from chat."""

__version__ = "0.1.0"
