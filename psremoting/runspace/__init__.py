"""The runspace-pool layer: one pool per PSSession, its pipelines and the host calls.

It owns the life of a pool (open, close, disconnect, reconnect, broken) and of each pipeline
on it (start, stream output and the six streams, stop, close). Nothing above it touches
pypsrp; nothing in it knows about cmdlets.
"""
