"""The assembly's social code, sans-I/O.

Pure functions over small immutable types: no network, no database, no clock
reads. Every function that depends on time takes "now" as an argument, so the
scheduler, the console's simulated clock and the tests drive it alike.
"""
