"""Ids of stored entities and imports: UUID strings, as Optimize's ids are, but time-ordered (UUIDv7,
RFC 9562): the first 48 bits are the Unix time in milliseconds, the rest random (74 bits), so each new id
sorts after the ones made before it in this process. An import's documents then go to the end of the
store's `_id` index (and of every index that ends in the id) instead of to random places in it: on the
embedded server that took 16-19 % off its CPU for a 10,000-entity import (BENCHMARKS.md)."""

import os
import threading
import time
from collections.abc import Callable

_TAIL_BITS = 74  # rand_a (12 bits) and rand_b (62 bits) of RFC 9562, read as one number
_RAND_B_BITS = 62
_VERSION = 0x7
_VARIANT = 0b10
_RANDOM_BATCH_BYTES = 4096  # read from the OS at once: one os.urandom per id was half of an id's cost


class TimeOrderedIds:
    """Makes UUIDv7 strings, strictly increasing within the process: within one millisecond the random tail
    grows by a random step (RFC 9562 6.2, method 2); when the clock goes back, ids go on from the last one;
    when the tail would overflow, the time field moves on by 1 ms. A forked child starts a fresh tail (else
    parent and child could continue the same one). `now_ns`: the clock (tests give their own)."""

    def __init__(self, now_ns: Callable[[], int] = time.time_ns) -> None:
        self._now_ns = now_ns
        self._lock = threading.Lock()
        self._millis = -1
        self._tail = 0
        self._random = b""  # random bytes not used yet
        self._random_at = 0
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._lock = threading.Lock()
        self._millis = -1
        self._random, self._random_at = b"", 0  # the parent's unused random bytes are not the child's

    def _random_bits(self, count: int) -> int:
        """`count` random bits, from a batch of bytes read from the OS (called under the lock)."""
        size = (count + 7) // 8
        if self._random_at + size > len(self._random):
            self._random, self._random_at = os.urandom(_RANDOM_BATCH_BYTES), 0
        start = self._random_at
        self._random_at += size
        return int.from_bytes(self._random[start:start + size], "big") >> (-count % 8)

    def _fresh_tail(self) -> int:
        """A random tail whose top bit is 0 (RFC 9562's rollover guard): room for over 2**40 more steps."""
        return self._random_bits(_TAIL_BITS - 1)

    def __call__(self) -> str:
        with self._lock:
            millis = self._now_ns() // 1_000_000
            if millis > self._millis:
                self._millis, self._tail = millis, self._fresh_tail()
            else:
                self._tail += 1 + self._random_bits(32)
                if self._tail >> _TAIL_BITS:  # over 2**40 ids in one millisecond: the time field moves on
                    self._millis, self._tail = self._millis + 1, self._fresh_tail()
            value = uuid7_value(self._millis, self._tail)
        text = f"{value:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def uuid7_value(millis: int, tail: int) -> int:
    """The 128 bits of a UUIDv7 of a time in milliseconds and a 74-bit random tail."""
    rand_a, rand_b = tail >> _RAND_B_BITS, tail & ((1 << _RAND_B_BITS) - 1)
    return (millis << 80) | (_VERSION << 76) | (rand_a << 64) | (_VARIANT << 62) | rand_b


# One generator per process: the ids of every import and every authored entity of this process increase.
new_entity_id = TimeOrderedIds()
