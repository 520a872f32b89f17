import os
import threading
import uuid

from contracts.entity_ids import TimeOrderedIds, new_entity_id

MILLIS = 1_796_000_000_000  # 2026-11-30


def fixed_clock(*millis: int):
    """A clock that answers the given milliseconds in turn, then the last one for ever."""
    answers = iter(millis)
    last = [millis[0]]

    def now_ns() -> int:
        last[0] = next(answers, last[0])
        return last[0] * 1_000_000

    return now_ns


def test_an_id_is_a_canonical_uuid_string_of_version_7_and_the_rfc_variant():
    entity_id = new_entity_id()
    parsed = uuid.UUID(entity_id)
    assert str(parsed) == entity_id
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122


def test_the_first_48_bits_are_the_time_in_milliseconds():
    entity_id = TimeOrderedIds(fixed_clock(MILLIS))()
    assert uuid.UUID(entity_id).int >> 80 == MILLIS


def test_ids_made_within_one_millisecond_increase_and_differ_in_their_random_tail():
    make = TimeOrderedIds(fixed_clock(MILLIS))
    ids = [make() for _ in range(10_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert {uuid.UUID(i).int >> 80 for i in ids} == {MILLIS}
    assert all(uuid.UUID(i).version == 7 and uuid.UUID(i).variant == uuid.RFC_4122 for i in ids)


def test_ids_still_increase_when_the_clock_goes_back():
    make = TimeOrderedIds(fixed_clock(MILLIS, MILLIS - 5_000, MILLIS + 1))
    first, second, third = make(), make(), make()
    assert first < second < third
    assert uuid.UUID(second).int >> 80 == MILLIS


def test_a_tail_about_to_overflow_moves_the_time_field_on_by_one_millisecond():
    make = TimeOrderedIds(fixed_clock(MILLIS))
    before = make()
    make._tail = (1 << 74) - 1  # what over 2**40 ids in one millisecond would reach
    after = make()
    assert before < after
    assert uuid.UUID(after).int >> 80 == MILLIS + 1
    assert uuid.UUID(after).version == 7 and uuid.UUID(after).variant == uuid.RFC_4122


def test_ids_of_several_threads_are_unique_and_each_threads_own_increase():
    make = TimeOrderedIds()
    made: dict[int, list[str]] = {}

    def work(index: int) -> None:
        made[index] = [make() for _ in range(2_000)]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [i for ids in made.values() for i in ids]
    assert len(set(everything)) == len(everything) == 16_000
    assert all(ids == sorted(ids) for ids in made.values())


def tail_of(entity_id: str) -> int:
    value = uuid.UUID(entity_id).int
    return ((value >> 64) & 0xFFF) << 62 | value & ((1 << 62) - 1)


def test_a_forked_child_starts_a_fresh_tail_instead_of_stepping_on_from_the_parents_last_id():
    make = TimeOrderedIds(fixed_clock(MILLIS))
    last = make()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: its next id, to the parent
        os.write(write, make().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    childs = os.read(read, 64).decode()
    os.close(read)
    assert uuid.UUID(childs).int >> 80 == MILLIS
    # A step from the last id adds 1 to 2**32 to its tail; a fresh tail lands there once in 2**41.
    assert not 0 < tail_of(childs) - tail_of(last) <= 2**32 + 1
    assert 0 < tail_of(make()) - tail_of(last) <= 2**32 + 1  # the parent steps on


def test_two_workers_forked_from_one_parent_make_different_ids_in_the_same_millisecond():
    """As gunicorn forks its workers from one master: the random bytes the parent read ahead are not
    shared by its children (with them, both children would make the very same next id)."""
    make = TimeOrderedIds(fixed_clock(MILLIS))
    make()  # the parent has read random bytes ahead
    ids = []
    for _ in range(2):
        read, write = os.pipe()
        child = os.fork()
        if child == 0:
            os.write(write, make().encode())
            os._exit(0)
        os.close(write)
        os.waitpid(child, 0)
        ids.append(os.read(read, 64).decode())
        os.close(read)
    assert ids[0] != ids[1]
    assert all(uuid.UUID(entity_id).int >> 80 == MILLIS for entity_id in ids)
