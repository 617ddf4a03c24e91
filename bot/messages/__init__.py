"""What the bot says: a platform-neutral message model, its texts in the assembly's language, and its limits."""
