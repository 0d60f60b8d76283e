"""The message bus: wire types, the embedded NATS server and connections to it."""
