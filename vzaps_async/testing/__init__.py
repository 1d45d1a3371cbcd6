"""Local simulator of the VZaps public API (stateful aiohttp.web app) and pytest fixtures."""
