"""The public register: every decision of every assembly on a web page, in open data (JSON, CSV) and in an Atom
feed, read only. :mod:`bot.register.links` makes its addresses (no web dependency: the bot's outcome messages
use it); :mod:`bot.register.app` serves it; :mod:`bot.register.exports` writes its open data."""
