"""Where a client on this machine reaches a server of the bot's (the register, the operations listener)."""

import ipaddress


def local_url(bind: str, port: int) -> str:
    """How a client on this machine reaches a server listening on ``bind`` (0.0.0.0: 127.0.0.1), e.g.
    http://127.0.0.1:8080."""
    try:
        address = ipaddress.ip_address(bind)
    except ValueError:
        return f"http://{bind}:{port}"  # a host name
    if address.is_unspecified:
        address = ipaddress.ip_address("127.0.0.1" if address.version == 4 else "::1")
    return f"http://{address}:{port}" if address.version == 4 else f"http://[{address}]:{port}"
