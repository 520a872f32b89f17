"""Local infrastructure: the RabbitMQ broker and the MongoDB-protocol server that `make run` and the
tests use when no external ones are configured."""
