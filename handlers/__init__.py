"""The skill's code: manifest, tools, the NemoVideo protocol client, CLI and MCP server."""
