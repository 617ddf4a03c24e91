"""The console's own commands (lines starting with ``/``), listed once: for its answer to an unknown one and for
``consent-bot console --help``. Kept apart from bot.console so that the command line's help loads none of it."""

CONSOLE_COMMANDS = (
    ("/as NAME", "speak as this member from now on"),
    ("/facilitator NAME", "make this member a facilitator"),
    ("/room ROOM", "say the next lines in this room of the configuration's networks (linked assemblies)"),
    ("/advance DURATION", "move the simulated clock (e.g. 3d, 12h), running what comes due on the way"),
    ("/register", "serve the public register of this session and print its address"),
    ("/mail [N]", "show the last N mails the session's decisions would send (assembly.email)"),
    ("/quit", "leave"),
)
"""(usage, what it does), in the order the console lists them."""


def console_commands_usage() -> str:
    """One line: every console command's usage."""
    return ", ".join(usage for usage, _ in CONSOLE_COMMANDS)
