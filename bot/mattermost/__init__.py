"""The Mattermost adapter: REST over aiohttp, a supervised websocket, and the mapping to the service."""
