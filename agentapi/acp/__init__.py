"""The ACP transport: agents that speak the Agent Client Protocol (JSON-RPC on stdio).

``transcript`` maps the protocol's session updates to our messages with no I/O;
``session`` runs the agent process and the connection (the ``agent-client-protocol``
package, imported only here and only in ACP mode: it takes over a second to import).
"""
