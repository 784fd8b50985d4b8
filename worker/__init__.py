"""The worker's core: its settings, the Faust app, what one worker holds, and the request and command schemas.

agents/ and web/ build on this package and cardiosynth/ assembles them; nothing here imports any of them.
"""
