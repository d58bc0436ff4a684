"""The transport: the one door to HTTP(S), pyspnego and pypsrp's WSMan internals.

Connection settings (SessionOption, PSCredential, ConnectionInfo), the guard that reads a
server's answers defensively, and the redaction that keeps secrets out of debug logs. It
imports only the protocol layer.
"""
