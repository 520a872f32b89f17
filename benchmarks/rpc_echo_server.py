"""An RPC echo server on the broker, with nothing of ours in it: pika, one queue, each request published back
to its reply-to with its correlation id, then acked (as the catalog worker answers). The benchmark's floor
for one RPC round trip, run as its own process as the catalog worker is.

    python benchmarks/rpc_echo_server.py AMQP_URL QUEUE      # prints "ready" once it consumes
"""

import signal
import sys

import pika


def main(amqp_url: str, queue: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.queue_declare(queue, auto_delete=True)
    channel.basic_qos(prefetch_count=8)

    def echo(channel, deliver, properties, body) -> None:
        channel.basic_publish("", properties.reply_to, body,
                              pika.BasicProperties(content_type="application/json",
                                                   correlation_id=properties.correlation_id))
        channel.basic_ack(deliver.delivery_tag)

    channel.basic_consume(queue, echo)
    signal.signal(signal.SIGTERM, lambda *_: connection.add_callback_threadsafe(channel.stop_consuming))
    print("ready", flush=True)
    try:
        channel.start_consuming()
    finally:
        connection.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
