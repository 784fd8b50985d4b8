"""The HTTP API: aiohttp views served by the Faust worker's web server."""
