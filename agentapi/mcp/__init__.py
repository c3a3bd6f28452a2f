"""The MCP server: tools that let a model drive agents through their daemons' HTTP API.

``tools`` holds what each tool does, on the client library (no MCP import: the package
takes over a second to import, so only ``server`` and only ``agentapi mcp`` pull it in).
"""
