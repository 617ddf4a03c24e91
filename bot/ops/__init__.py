"""Running the bot as a service: its health (/healthz, /readyz), its metrics (/metrics) on the operations listener,
and logs for machines. Nothing here decides anything: it watches the service (:class:`bot.app.observer.Observer`)
and asks it, never the other way round."""


class OpsUnavailable(Exception):
    """The operations listener cannot listen where the configuration says (the port is taken, the address is not
    ours)."""
