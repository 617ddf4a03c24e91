"""The application: from a platform event to a decision and its effects (storage, messages, the clock)."""
