"""roomchat: workspace-based room chat over REST and WebSocket, Kafka between instances."""

__version__ = "0.1.0"
