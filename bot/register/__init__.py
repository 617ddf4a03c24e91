"""The public register: every decision of every assembly on a web page, in open data (JSON, CSV) and in an Atom
feed, read only. :mod:`bot.register.links` makes its addresses (no web dependency: the bot's outcome messages
use it); :mod:`bot.register.app` serves it; :mod:`bot.register.exports` writes its open data.

Importing this package loads nothing else: a bot that does not serve the register never loads the web server,
the templates or Jinja2 (a bot's resident memory)."""


class RegisterUnavailable(Exception):
    """The register cannot listen where the configuration says (the port is taken, the address is not ours)."""
