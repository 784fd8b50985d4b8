"""The Kafka side: the embedded broker for one machine, and topic declaration for any broker."""
