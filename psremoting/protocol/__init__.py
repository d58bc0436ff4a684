"""Protocol facts, with no I/O: what PSRP and WS-Management say and what PowerShell answers.

The error hierarchy worded as PowerShell words it, PSRP message types and fragment reassembly,
deserialized objects (CLIXML), and the text of the scripts the client sends. Every other layer
may import this one; it imports nothing of the client.
"""
