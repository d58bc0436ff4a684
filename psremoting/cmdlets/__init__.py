"""The session cmdlets as a Python API: New/Get/Remove-PSSession, Enter/Exit-PSSession,
Invoke-Command, Copy-Item to and from a session, and PowerShell's views of their objects.
"""
